// The secrets pack: vendor-prefixed tokens (exact formats, checked for placeholders and
// entropy), credentials embedded in URLs, headers and command lines, private keys, JWTs, and
// generic `password=`/`api_key:`/`token` assignments gated by key name and entropy.
#include "policies/detector_spec.h"
#include "policies/secret_validators.h"

namespace sy::policies {
namespace {

// A PEM/PGP/OpenSSH armor line as written, or as retyped to slip past an exact match: any case,
// 3+ dashes, spaces or tabs around and inside ("----- BEGIN  RSA PRIVATE KEY -----").
#define SY_PEM_LINE(word)                                        \
  "-{3,}[ \\t]{0,4}" word                                        \
  "[A-Z0-9 \\t]{0,40}PRIVATE[ \\t]{1,4}KEY(?:[ \\t]{1,4}BLOCK)?" \
  "[ \\t]{0,4}-{3,}"

// Most vendor tokens: a prefix, then a fixed alphabet; "(?:\\b|$)" is implied by the callers.
BuiltinDetector secret(std::string_view id, int priority, std::string_view description,
                       std::vector<PatternSpec> patterns) {
  return {id,       DetectorClass::Secret, "restricted",       true,
          priority, description,           std::move(patterns)};
}

PatternSpec token(std::string_view regex, size_t max_len = 128) {
  return pattern(regex, validateToken, max_len);
}

// The pack the issue names first: cloud, source hosting, chat, payment and model providers.
void addPlatformKeys(std::vector<BuiltinDetector>& d) {
  d.push_back(
      secret("secret.aws_access_key", 90, "AWS access key id",
             {token("\\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)"
                    "[A-Z2-7]{16})\\b",
                    24)}));
  d.push_back(secret(
      "secret.aws_secret_key", 85, "AWS secret access key (next to an AWS secret key name)",
      {token("(?i)aws[a-z_.\\-]{0,24}(?:secret|sk)[a-z_.\\-]{0,20}[\"']?\\s{0,3}(?:=|:|=>)\\s{0,3}"
             "[\"']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)",
             128)}));
  d.push_back(secret(
      "secret.aws_bedrock_key", 80, "Amazon Bedrock API key",
      {token("\\b(ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{80,300}={0,2})", 320),
       token("\\b(bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%]{0,600})", 640)}));
  d.push_back(secret("secret.github_token", 90, "GitHub token",
                     {token("\\b(gh[pousr]_[A-Za-z0-9]{36,255})\\b", 260),
                      token("\\b(github_pat_[A-Za-z0-9_]{80,255})\\b", 270)}));
  d.push_back(secret("secret.gitlab_token", 90, "GitLab token",
                     {token("\\b((?:glpat|gldt|glrt|glptt|glcbt|glft|glsoat|glimt|glagent|gloas)-"
                            "[A-Za-z0-9_\\-]{20,64})(?:[^A-Za-z0-9_\\-]|$)",
                            80),
                      token("\\b(GR1348941[A-Za-z0-9_\\-]{20,40})\\b", 56)}));
  d.push_back(
      secret("secret.slack_token", 90, "Slack token or webhook",
             {pattern("\\b(xox[abposre]-(?:\\d-)?\\d{5,}(?:-\\d{5,}){0,3}-[A-Za-z0-9]{8,})\\b",
                      validateSlackToken, 200),
              token("\\b(xapp-\\d-[A-Z0-9]{6,}-\\d{6,}-[a-z0-9]{20,})\\b", 200),
              token("(https://hooks\\.slack\\.com/(?:services|workflows)/T[A-Z0-9]{6,}/"
                    "[A-Z0-9]{6,}/[A-Za-z0-9]{16,})",
                    160)}));
  d.push_back(secret("secret.stripe_key", 90, "Stripe secret or restricted key",
                     {token("\\b((?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,250})\\b", 260),
                      token("\\b(whsec_[A-Za-z0-9]{32,64})\\b", 72)}));
  d.push_back(secret(
      "secret.openai_key", 90, "OpenAI API key",
      {token("\\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\\-]{16,}T3BlbkFJ[A-Za-z0-9_\\-]{16,})",
             240),
       token("\\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\\-]{58,200})(?:[^A-Za-z0-9_\\-]|$)", 220),
       token("\\b(sk-[A-Za-z0-9]{48})\\b", 52)}));
  d.push_back(secret("secret.anthropic_key", 90, "Anthropic API key",
                     {token("\\b(sk-ant-(?:api|admin|sid|oat)\\d{2}-[A-Za-z0-9_\\-]{80,120}AA)"
                            "(?:[^A-Za-z0-9_\\-]|$)",
                            140)}));
  d.push_back(secret("secret.switchyard_key", 95, "Switchyard API key (checksum verified)",
                     {pattern("\\b(syk_[a-z0-9][a-z0-9\\-]{0,62}_[0-9A-Za-z]{49})\\b",
                              validateSwitchyardKey, 117)}));
  d.push_back(secret("secret.google_api_key", 90, "Google API key",
                     {token("\\b(AIza[0-9A-Za-z_\\-]{35})(?:[^0-9A-Za-z_\\-]|$)", 40),
                      token("\\b(GOCSPX-[A-Za-z0-9_\\-]{28})(?:[^A-Za-z0-9_\\-]|$)", 36)}));
  d.push_back(secret(
      "secret.azure_connection_string", 85, "Azure storage/service bus key or SAS signature",
      {token("(?i)\\b(?:Account|SharedAccess)Key\\s*=\\s*([A-Za-z0-9+/]{30,100}={0,2})", 140),
       token("(?i)[?&]sig=([A-Za-z0-9%+/]{30,100}(?:%3D|=){0,2})", 120)}));
  d.push_back(
      secret("secret.azure_client_secret", 85, "Azure AD (Entra ID) client secret",
             {token("(?m)(?:^|[\\s'\"=(>:\\\\])([A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.\\-]{31,34})"
                    "(?:$|[\\s'\"),;<\\\\])",
                    48)}));
}

// Tokens and credentials by structure rather than vendor: JWTs, private keys, credentials in
// URLs, headers and command lines.
void addStructuralSecrets(std::vector<BuiltinDetector>& d) {
  d.push_back(secret("secret.jwt", 70, "JSON Web Token",
                     {token("\\b(ey[A-Za-z0-9_\\-]{10,}\\.ey[A-Za-z0-9_\\-/\\\\]{10,}"
                            "(?:\\.(?:[A-Za-z0-9_\\-/\\\\]{8,}={0,2})?)?)",
                            2048)}));
  d.push_back(secret("secret.private_key", 95, "PEM/PGP/OpenSSH private key",
                     {pattern("(?i)(" SY_PEM_LINE("BEGIN") "[\\s\\S]*?" SY_PEM_LINE("END") ")",
                              validatePrivateKey, 4096),
                      pattern("(?i)(" SY_PEM_LINE("BEGIN") "[A-Za-z0-9+/=\\s:,.\\\\]{20,})",
                              validatePrivateKey, 4096)}));
  d.push_back(secret(
      "secret.database_url", 80, "database connection URL with an embedded password",
      {pattern("(?i)\\b[a-z][a-z0-9+.\\-:]{1,24}://[^\\s:/@'\"`]{0,128}:([^\\s/@'\"`]{1,128})@"
               "[A-Za-z0-9.\\-\\[\\]]{1,253}",
               validateDatabaseUrl, 256)}));
  d.push_back(secret(
      "secret.url_credentials", 75, "URL with an embedded password",
      {pattern("(?i)\\b[a-z][a-z0-9+.\\-]{1,20}://[^\\s:/@'\"`]{0,128}:([^\\s/@'\"`]{1,128})@"
               "[A-Za-z0-9.\\-\\[\\]]{1,253}",
               validateUrlCredentials, 256)}));
  d.push_back(secret(
      "secret.http_credentials", 65, "credentials in an Authorization header or curl -u",
      {pattern("(?i)\\b(?:proxy-)?authorization[\"']?\\s*[:=]\\s*[\"']?\\s*"
               "(?:(?:basic|bearer|token|api-token|digest|apikey|key|sso-key)\\s+)?"
               "([A-Za-z0-9._~+/=:@!$%^&*#\\-]{6,512})",
               validateAuthorizationHeader, 560),
       pattern(
           "(?s)\\bcurl\\b.{0,300}?\\s(?:-u|--user)\\s+((?:\"[^\"\\n]*\"|'[^'\\n]*'|[^\\s'\"])+)",
           validateCurlUser, 720)}));
}

void addVendorTokens(std::vector<BuiltinDetector>& d) {
  d.push_back(secret("secret.onepassword_token", 85, "1Password service account or secret key",
                     {token("\\b(ops_eyJ[A-Za-z0-9+/=_\\-]{100,})", 1200),
                      token("\\b(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-"
                            "[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\\b",
                            48)}));
  d.push_back(secret("secret.atlassian_token", 85, "Atlassian API token",
                     {token("\\b(ATATT3[A-Za-z0-9_\\-=]{150,300})", 310)}));
  d.push_back(
      secret("secret.age_key", 90, "age encryption secret key",
             {token("\\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\\b", 80)}));
  d.push_back(secret("secret.clickhouse_key", 80, "ClickHouse Cloud API secret",
                     {token("\\b(4b1d[A-Za-z0-9]{38})\\b", 42)}));
  d.push_back(secret("secret.cloudflare_ca_key", 85, "Cloudflare origin CA key",
                     {token("\\b(v1\\.0-[a-f0-9]{24}-[a-f0-9]{146})\\b", 180)}));
  d.push_back(secret("secret.databricks_token", 85, "Databricks token",
                     {token("\\b(dapi[a-f0-9]{32}(?:-\\d)?)\\b", 40)}));
  d.push_back(
      secret("secret.facebook_token", 80, "Facebook access token",
             {token("\\b(\\d{15,16}(?:\\||%7C)[A-Za-z0-9_\\-]{27})(?:[^A-Za-z0-9_\\-]|$)", 48),
              token("\\b(EAA[A-Za-z0-9]{90,400})\\b", 404)}));
  d.push_back(secret("secret.flyio_token", 85, "Fly.io access token",
                     {token("\\b(fo1_[A-Za-z0-9_\\-]{43})(?:[^A-Za-z0-9_\\-]|$)", 48),
                      token("\\b(FlyV1 fm[12][a-z]?_[A-Za-z0-9+/=,_\\-]{100,})", 1200)}));
  d.push_back(secret("secret.grafana_token", 85, "Grafana Cloud or service account token",
                     {token("\\b(glc_[A-Za-z0-9+/]{32,400}={0,2})", 410),
                      token("\\b(glsa_[A-Za-z0-9]{32}_[a-f0-9]{8})\\b", 48)}));
  d.push_back(secret("secret.terraform_token", 85, "Terraform Cloud / HCP token",
                     {token("\\b([A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_=\\-]{60,70})\\b", 96)}));
  d.push_back(secret("secret.vault_token", 85, "HashiCorp Vault token",
                     {token("\\b(hvs\\.[A-Za-z0-9_\\-]{90,120})\\b", 128),
                      token("\\b(hvb\\.[A-Za-z0-9_\\-]{138,300})\\b", 310),
                      pattern("\\b(s\\.[A-Za-z0-9]{24})\\b", validateMixedToken, 28)}));
}

void addMoreVendorTokens(std::vector<BuiltinDetector>& d) {
  d.push_back(secret("secret.heroku_key", 85, "Heroku API key",
                     {token("\\b(HRKU-AA[A-Za-z0-9_\\-]{58})(?:[^A-Za-z0-9_\\-]|$)", 68)}));
  d.push_back(secret("secret.infracost_key", 85, "Infracost API key",
                     {token("\\b(ico-[A-Za-z0-9]{32})\\b", 40)}));
  d.push_back(secret("secret.mailchimp_key", 80, "Mailchimp API key",
                     {token("\\b([a-f0-9]{32}-us\\d{1,2})\\b", 40)}));
  d.push_back(secret("secret.openshift_token", 85, "OpenShift user token",
                     {token("\\b(sha256~[A-Za-z0-9_\\-]{43})(?:[^A-Za-z0-9_\\-]|$)", 52)}));
  d.push_back(secret("secret.perplexity_key", 85, "Perplexity API key",
                     {token("\\b(pplx-[A-Za-z0-9]{48})\\b", 56)}));
  d.push_back(secret("secret.scalingo_token", 85, "Scalingo API token",
                     {token("\\b(tk-us-[A-Za-z0-9_\\-]{48})(?:[^A-Za-z0-9_\\-]|$)", 56)}));
  d.push_back(secret("secret.sourcegraph_token", 85, "Sourcegraph access token",
                     {token("\\b(sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40})\\b", 64)}));
  d.push_back(secret("secret.square_token", 85, "Square access token or secret",
                     {token("\\b((?:sq0atp|sq0csp)-[A-Za-z0-9_\\-]{22,43})\\b", 52),
                      token("\\b(EAAA[A-Za-z0-9_\\-]{60})(?:[^A-Za-z0-9_\\-]|$)", 68)}));
  d.push_back(secret("secret.sumologic_access_id", 80, "Sumo Logic access id",
                     {token("(?i)\\bsumo(?:logic)?[_.\\-]?access[_.\\-]?id[\"']?\\s*[:=]\\s*[\"']?"
                            "(su[A-Za-z0-9]{12})\\b",
                            64)}));
  d.push_back(
      secret("secret.sonar_token", 80, "SonarQube/SonarCloud token",
             {token("(?i)\\bsonar[_.\\-]?(?:login|token)[\"']?\\s*(?:[:?]{0,3}=|:)\\s*[\"']?"
                    "((?:sq[uap]_)?[A-Za-z0-9]{40})\\b",
                    80)}));
  d.push_back(secret("secret.bundler_credentials", 80,
                     "Bundler gem server credentials (BUNDLE_HOST__TLD)",
                     {pattern("\\bBUNDLE_[A-Z0-9_]{2,64}__[A-Z0-9]{2,10}[\"']?\\s*[:=]\\s*[\"']?"
                              "([^\\s\"':]{1,64}:[^\\s\"';&]{1,128})",
                              validateCredentialPair, 280)}));
  d.push_back(secret(
      "secret.package_registry_token", 85, "npm, PyPI, Docker Hub, Clojars or Hugging Face token",
      {token("\\b(npm_[A-Za-z0-9]{36})\\b", 40),
       token("\\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\\-]{50,300})", 320),
       token("\\b(dckr_pat_[A-Za-z0-9_\\-]{27})(?:[^A-Za-z0-9_\\-]|$)", 40),
       token("\\b(CLOJARS_[a-z0-9]{60})\\b", 72), token("\\b(hf_[A-Za-z]{34})\\b", 40)}));
  d.push_back(secret(
      "secret.saas_api_key", 80,
      "SendGrid, Twilio, Shopify, DigitalOcean, Mailgun, Telegram, New Relic, Linear, Postman, "
      "Pulumi or Doppler key",
      {token("\\b(SG\\.[A-Za-z0-9_\\-]{22}\\.[A-Za-z0-9_\\-]{43})(?:[^A-Za-z0-9_\\-]|$)", 72),
       token("\\b(SG\\.[A-Za-z0-9=_\\-.]{66})(?:[^A-Za-z0-9=_\\-.]|$)", 72),
       token("\\b(SK[0-9a-f]{32})\\b", 36), token("\\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\\b", 40),
       token("\\b(do[por]_v1_[a-f0-9]{64})\\b", 72), token("\\b(key-[a-f0-9]{32})\\b", 40),
       token("\\b(\\d{8,10}:AA[A-Za-z0-9_\\-]{33})(?:[^A-Za-z0-9_\\-]|$)", 48),
       token("\\b(NRAK-[A-Z0-9]{27})\\b", 32), token("\\b(lin_api_[A-Za-z0-9]{40})\\b", 48),
       token("\\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\\b", 64), token("\\b(pul-[a-f0-9]{40})\\b", 44),
       token("\\b(dp\\.pt\\.[A-Za-z0-9]{43})\\b", 50)}));
  d.push_back(secret(
      "secret.generic_assignment", 40,
      "password/secret/token/api key assigned a random-looking value",
      {pattern(
          "(?i)(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_.\\-]?key|apikey|access[_.\\-]?key|"
          "auth|credentials?|creds|key)[a-z0-9_.\\-]{0,24}[\"']?[ \\t]{0,3}"
          "(?:=|:=|::=|:::=|\\?=|:|=>|,)[ \\t]{0,3}[`\"']?([^\\s\"'`;,()<>\\[\\]{}]{6})",
          validateGenericAssignment, 256)}));
}

// Services whose keys have no prefix of their own: gitleaks finds them by the service's name in
// the key (`mattermost_token: ...`). Written from the gitleaks rules in dlp_eval's rule folds
// 0-3 only (fold 4 is held out), so fold 4 measures how far the approach carries.
#define SY_SERVICE_NAMES                                                                    \
  "adafruit|beamer|bitbucket|bittrex|meraki|cloudflare|codecov|cohere|co_api_key|coinbase|" \
  "confluent|contentful|datadog|discord|dropbox|etsy|facebook|finicity|finnhub|flickr|"     \
  "freshbooks|gitter|gocardless|heroku|hubspot|jfrog|artifactory|bintray|kraken|kucoin|"    \
  "launchdarkly|linked[_-]?in|looker|mailgun|mapbox|mattermost|message[_-]?bird|"           \
  "new[_-]?relic|nytimes|okta|plaid|private[_-]?ai|sendbird|sentry|snyk|squarespace|sumo|"  \
  "telegr|travis|twitch|twitter|typeform|yandex|zendesk|atlassian|confluence|jira|sonar"

// Tokens with a distinctive prefix, from the gitleaks rules of folds 0-3.
void addPrefixedTokens(std::vector<BuiltinDetector>& d) {
  d.push_back(secret(
      "secret.prefixed_token", 80,
      "vendor token with a distinctive prefix (Adobe, Alibaba, Artifactory, Authress, Duffel, "
      "Dynatrace, EasyPost, Flutterwave, Frame.io, GitLab, Harness, Hugging Face, 42 Intra, "
      "MaxMind, New Relic, Notion, Octopus Deploy, PlanetScale, Prefect, ReadMe, RubyGems, "
      "Sentry, SettleMint, Typeform, Microsoft Teams webhook)",
      {token("\\b(p8e-[A-Za-z0-9]{32})(?:[^A-Za-z0-9]|$)", 40),
       token("\\b(LTAI[A-Za-z0-9]{20})\\b", 28),
       token("\\b(AKCp[A-Za-z0-9]{69})\\b", 76),
       token("\\b(cmVmd[A-Za-z0-9]{59})\\b", 68),
       token("\\b((?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\\.[A-Za-z0-9]{4,6}\\.acc[_-]"
             "[A-Za-z0-9-]{10,32}\\.[A-Za-z0-9+/_=-]{30,120})",
             200),
       token("\\b(duffel_(?:test|live)_[A-Za-z0-9_\\-=]{43})", 60),
       token("\\b(dt0c01\\.[A-Za-z0-9]{24}\\.[A-Za-z0-9]{64})\\b", 100),
       token("\\b(EZTK[A-Za-z0-9]{54})\\b", 60),
       token("\\b(FLW(?:SECK|PUBK)_TEST-[A-Ha-h0-9]{12,32}(?:-X)?)", 52),
       token("\\b(fio-u-[A-Za-z0-9\\-_=]{64})", 72),
       token("\\b(glffct-[0-9A-Za-z_\\-]{20})(?:[^0-9A-Za-z_\\-]|$)", 28),
       token("_gitlab_session=([0-9a-z]{32})\\b", 50),
       token("\\b((?:pat|sat)\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9]{24}\\.[A-Za-z0-9]{20})\\b", 72),
       token("\\b(api_org_[A-Za-z]{34})\\b", 44),
       token("\\b(s-s4t2(?:ud|af)-[a-fA-F0-9]{64})\\b", 76),
       token("\\b([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)\\b", 44),
       token("\\b(NRII-[A-Za-z0-9-]{32})(?:[^A-Za-z0-9-]|$)", 40),
       token("\\b(ntn_[0-9]{11}[A-Za-z0-9]{35})\\b", 52),
       token("\\b(API-[A-Z0-9]{26})\\b", 32),
       token("\\b(pscale_(?:tkn|oauth|pw)_[\\w=.\\-]{32,64})", 80),
       token("\\b(pnu_[A-Za-z0-9]{36})\\b", 40),
       token("\\b(rdme_[a-z0-9]{70})\\b", 76),
       token("\\b(rubygems_[a-f0-9]{48})\\b", 60),
       token("\\b(sntryu_[a-f0-9]{64})\\b", 72),
       token("\\b(sntrys_eyJpYXQiO[A-Za-z0-9+/]{10,400}={0,2}_[A-Za-z0-9+/]{43})", 480),
       token("\\b(sm_(?:pat|sat)_[A-Za-z0-9]{16})\\b", 24),
       token("\\b(tfp_[A-Za-z0-9\\-_.=]{59})", 64),
       token("(https://[a-z0-9]+\\.webhook\\.office\\.com/webhookb2/[a-z0-9-]{36}@[a-z0-9-]{36}/"
             "IncomingWebhook/[a-z0-9]{32}/[a-z0-9-]{36})",
             220)}));
  PatternSpec service =
      pattern("(?i)(?:" SY_SERVICE_NAMES
              ")[ \\t\\w.\\-]{0,20}[\\s'\"]{0,3}(?:=|>|:{1,3}=|\\|\\||:|=>|\\?=|,)"
              "[`'\"\\s=]{0,5}([A-Za-z0-9_\\-+/.=%~]{14,300})",
              validateServiceAssignment, 340);
  service.prefilter = "(?i)(?:" SY_SERVICE_NAMES ")";
  d.push_back(secret("secret.service_assignment", 45,
                     "random-looking value assigned to a key naming a service (Twitter, Mapbox, "
                     "Discord, Heroku, Okta, Sentry, ...)",
                     {service}));
}

}  // namespace

std::vector<BuiltinDetector> secretDetectors() {
  std::vector<BuiltinDetector> d;
  addPlatformKeys(d);
  addStructuralSecrets(d);
  addVendorTokens(d);
  addMoreVendorTokens(d);
  addPrefixedTokens(d);
  return d;
}

}  // namespace sy::policies
