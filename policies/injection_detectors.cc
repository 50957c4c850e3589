// Prompt-injection and jailbreak heuristics. Each signal has a weight; a text is flagged when
// the weights of the distinct signals it contains reach DlpConfig::injection_threshold (1.0 by
// default). Strong signals (an instruction override, a system-prompt extraction request, chat
// template tokens) reach it alone; role-play scaffolding needs several weak signals together.
// Instructions addressed to the assistant ("add X to your reply") weigh much more in untrusted
// content (tool results, documents) than in a user's own prompt.
#include "policies/detector_spec.h"

namespace sy::policies {
namespace {

struct Signal {
  std::string_view regex;
  double weight;
  double untrusted_weight = -1;  // < 0: same as weight
  std::string_view prefilter = {};
};

constexpr Signal kSignals[] = {
    // --- Instruction override.
    {"(?i)\\b(?:ignore|disregard|forget|override|bypass|abandon|discard)\\s+(?:[a-z]+\\s+){0,3}?"
     "(?:previous|prior|above|earlier|preceding|original|initial|former|old|system|all|existing|"
     "current)\\s+(?:[a-z',]+\\s+){0,3}?(?:instructions?|prompts?|directives?|rules|guidelines|"
     "commands|programming|context|messages?|conversation|identity|restrictions|constraints|"
     "training|policies|settings|data|inputs?|orders|directions?)\\b",
     1.0},
    {"(?i)\\bforget\\s+(?:everything|all)\\s+(?:you|that|about|of)\\b", 0.8},
    {"(?i)\\b(?:your\\s+)?new\\s+(?:instructions|rules|guidelines|directives?|programming|"
     "policies|principles)\\b",
     0.4},
    {"(?i)\\b(?:from\\s+now\\s+on|for\\s+the\\s+rest\\s+of\\s+(?:this|our|the)\\s+"
     "conversation|until\\s+i\\s+say\\s+(?:stop|otherwise))\\b",
     0.3},
    {"(?i)\\b(?:admin(?:istrator)?|system|developer|root|sudo)\\s+"
     "(?:override|command|access)\\b",
     0.6},
    // --- Role-play jailbreak scaffolds.
    {"(?i)\\bdo\\s+anything\\s+now\\b", 1.0},
    {"\\b(?:DAN|STAN|DUDE|BetterDAN|AntiGPT|DevMode)\\b", 0.5},
    {"(?i)\\bjail\\s?-?broken?\\b|\\bjailbreak(?:s|ing)?\\b", 0.5},
    {"(?i)\\b(?:developer|dev|god|jailbreak|dan|unrestricted|unfiltered|uncensored|evil|"
     "opposite|chaos|maintenance|debug|debugging|admin|sudo|unlocked)[\\s_\\\\-]+mode\\b",
     0.5},
    {"(?i)\\b(?:free\\s+(?:of|from)|freed\\s+from|broken?\\s+free\\s+(?:of|from)|not\\s+(?:be\\s+)?"
     "(?:bound|restrained|restricted|limited|constrained)\\s+by|(?:does|do)\\s*(?:n't|not)\\s+"
     "(?:have\\s+to\\s+)?(?:abide|follow|adhere|comply)|(?:does|do)\\s*(?:n't|not)\\s+have|has\\s+"
     "no|have\\s+no|"
     "lacks?|with\\s+no|without\\s+(?:any\\s+)?|no\\s+(?:more\\s+)?|not\\s+limited\\s+to|"
     "bypass(?:es|ing)?\\s+(?:all\\s+)?)(?:[a-z',]+\\s+){0,4}?(?:restrictions|limitations|"
     "filters|filtering|censorship|guidelines|policies|confines|boundaries|morals|ethics|"
     "principles|prohibitions|scruples|rules|laws|regulations)\\b",
     0.6},
    {"(?i)\\b(?:unfiltered|uncensored|unrestricted|unrestrained|uninhibited|"
     "unlimited)\\b",
     0.3},
    {"(?i)\\b(?:forget|ignore|disregard|override|bypass)\\s+(?:all\\s+(?:of\\s+)?)?"
     "(?:your\\s+|the\\s+|its\\s+|(?:open\\s?ai|chat\\s?gpt|gpt|discord)'?s?\\s+)?"
     "(?:[\\w']+\\s+){0,2}?(?:rules|guidelines|policies|restrictions|programming|training|"
     "filters|tos)\\b",
     0.6},
    {"(?i)\\byou\\s+are\\s+(?:now\\s+)?(?:fully\\s+|completely\\s+)?(?:unlocked|free|"
     "freed|unrestricted|unfiltered|uncensored|jailbroken|liberated)\\b",
     0.6},
    {"(?i)\\b(?:simulate|enable|activate|enter|switch\\s+to|turn\\s+on)\\s+"
     "(?:\\w+\\s+){0,2}?mode\\b",
     0.4},
    {"(?i)\\b(?:respond|reply|answer)\\s+to\\s+(?:every|all|each|any)\\s+(?:of\\s+my\\s+)?"
     "(?:prompts?|questions?|messages?|requests?)\\b",
     0.3},
    {"(?i)\\bas\\s+an?\\s+(?:[\\w']+[\\s,]+){0,3}?(?:unfiltered|uncensored|unrestricted|"
     "unlimited|jailbroken|amoral|evil)\\b",
     0.4},
    {"(?i)\\b(?:do\\s+not|don'?t|never)\\s+(?:pretend|say|mention|reveal|admit)\\s+"
     "(?:to\\s+be\\s+|that\\s+you\\s+are\\s+)?(?:an?\\s+)?(?:large\\s+)?(?:language\\s+"
     "model|ai\\b|chatbot|assistant|trained\\s+by)",
     0.5},
    {"(?i)\\b(?:amoral|unethical|immoral)\\b", 0.3},
    {"(?i)\\b(?:doesn'?t|does\\s+not|don'?t|do\\s+not|won'?t|never)\\s+care\\s+"
     "(?:about\\s+)?(?:any\\s+)?(?:\\w+\\s+){0,2}?(?:laws?|morals?|morality|ethics|"
     "ethicality|legality|rules|consequences)\\b",
     0.5},
    {"(?i)\\bregardless\\s+of\\s+(?:\\w+\\s+){0,3}?(?:ethic\\w*|legal\\w*|moral\\w*|"
     "laws?|consequences|safety|harm\\w*)",
     0.5},
    {"(?i)\\byou\\s+are\\s+no\\s+longer\\s+(?:chat\\s?gpt|gpt|claude|an?\\s+(?:ai|"
     "assistant|language\\s+model)|bound|restricted|limited)\\b",
     0.8},
    {"(?i)\\bforget\\s+(?:that\\s+)?you\\s+are\\s+(?:an?\\s+)?(?:ai|language\\s+model|"
     "chat\\s?gpt|assistant)\\b",
     0.8},
    {"(?i)\\b(?:do\\s+not|don'?t|never|no\\s+longer|will\\s+not|won'?t)\\s+"
     "(?:respond|answer|reply|act|talk)\\b[^.\\n]{0,30}?\\bas\\s+(?:chat\\s?gpt|gpt|"
     "claude|an?\\s+ai|an?\\s+assistant)\\b",
     0.6},
    {"(?i)\\b(?:ai|chatbot|model|language\\s+model|bot|character|persona)\\s+"
     "(?:known\\s+as|called|named)\\b",
     0.4},
    {"(?i)\\b(?:none\\s+of\\s+your\\s+actions|no\\s+(?:real[- ]world\\s+)?"
     "consequences|without\\s+(?:any\\s+)?consequences)\\b",
     0.4},
    {"(?i)\\bbreak(?:s|ing)?\\s+(?:the\\s+|all\\s+|any\\s+|your\\s+)?(?:[\\w']+\\s+)?"
     "(?:rules|guidelines|laws)\\b",
     0.5},
    {"(?i)\\b(?:can|could|capable\\s+of|able\\s+to)\\s+(?:do(?:ing)?\\s+)?"
     "anything\\b",
     0.3},
    {"(?i)\\b(?:content\\s+)?filters?\\s+bypass|\\bbypass(?:es|ing)?\\s+(?:the\\s+|"
     "any\\s+|all\\s+)?(?:content\\s+)?(?:filters?|restrictions|guidelines|safety|"
     "moderation)\\b",
     0.6},
    {"(?i)[\"“'‘]\\s*(?:i'?m\\s+sorry|i\\s+am\\s+sorry|as\\s+an?\\s+(?:ai|large\\s+"
     "language\\s+model|language\\s+model))",
     0.4},
    {"(?i)\\byou\\s+are\\s+now\\b", 0.3},
    {"\\b(?:[Yy]ou(?:'re|\\s+are)\\s+(?:now\\s+)?|[Aa]ct\\s+as\\s+|[Pp]retend\\s+to\\s+be\\s+|"
     "[Yy]our\\s+name\\s+is\\s+(?:now\\s+)?)[A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*\\b",
     0.4},
    {"(?i)\\b(?:never|don'?t|do\\s+not|will\\s+not|won'?t|cannot|can'?t)\\s+"
     "(?:ever\\s+)?(?:refuse|decline|reject)\\w*\\b",
     0.5},
    {"(?i)\\b(?:without|no)\\s+(?:any\\s+)?(?:warnings?|disclaimers?|refusals?|"
     "apolog\\w*|moraliz\\w*|censorship)\\b",
     0.5},
    {"(?i)\\b(?:never|don'?t|do\\s+not)\\s+(?:\\w+\\s+){0,2}?(?:apologi[sz]e|"
     "remind\\s+me|break\\s+character|say\\s+(?:no|that\\s+you\\s+can'?t)|"
     "mention\\s+(?:that\\s+)?you\\s+are\\s+an?\\s+ai)\\b",
     0.5},
    {"(?i)\\b(?:open\\s?a[il]s?|anthropic|chatgpt|gpt)(?:'s)?\\s+(?:content\\s+)?"
     "(?:policy|policies|guidelines|rules|restrictions|filters|tos|terms)\\b",
     0.5},
    {"(?i)\\b(?:stay|remain|keep)\\s+in\\s+character\\b", 0.4},
    {"(?i)\\b(?:you\\s+are\\s+(?:going\\s+to|about\\s+to|now)\\s+(?:act|pretend|play|be|become|"
     "simulate|emulate|immerse)|you\\s+will\\s+(?:now\\s+)?(?:pretend|act|become|roleplay|role-"
     "play|pose)|"
     "immerse\\s+yourself\\s+in(?:to)?\\s+the\\s+role|take\\s+(?:up|on)\\s+(?:the\\s+)?"
     "(?:\\w+\\s+){0,2}?(?:persona|role)|pose\\s+as|(?:act|pretend|behave)\\s+(?:as|like|to\\s+be)"
     "\\s+(?:an?\\s+)?"
     "(?:ai|chatbot|language\\s+model|unfiltered|uncensored))\\b",
     0.4},
    {"(?i)\\b(?:two|2)\\s+(?:different\\s+|separate\\s+|distinct\\s+)*"
     "(?:responses|ways|answers|paragraphs|outputs|personas|personalities|characters)\\b",
     0.3},
    {"\\b[A-Z][A-Za-z]*[A-Z]\\b[^.\\n]{0,24}\\bstands\\s+for\\b", 0.3},
    {"[🔓🔒]|\\[(?:JAILBREAK|CLASSIC|DAN|GPT|ChatGPT)\\]", 0.6},
    {"(?i)\\b(?:hi|hello|hey)\\s*,?\\s+chat\\s?gpt\\b", 0.3},
    {"(?i)\\b(?:hypothetical|fictional|imaginary)\\s+(?:world|scenario|setting|"
     "universe|story|language\\s+model|ai|chatbot|model)\\b",
     0.3},
    {"(?i)\\b(?:illegal|harmful|dangerous|explicit|offensive|unethical|immoral)"
     "\\b[^.\\n]{0,40}?\\b(?:content|information|requests?|responses?|answers?)\\b",
     0.3},
    {"(?i)\\byou\\s+(?:must|will|shall)\\s+(?:always\\s+)?(?:obey|comply)\\b|"
     "(?i)\\balways\\s+(?:comply|obey)\\b",
     0.4},
    // Weak context: common in jailbreak scaffolds, rare in ordinary prompts, never enough alone.
    {"(?i)\\bchat\\s?gpt\\b", 0.3},
    {"(?i)\\bopen\\s?a[il]\\b", 0.3},
    {"(?i)\\b(?:persona|alter\\s+ego|character)s?\\b", 0.2},
    {"(?i)\\brole-?play(?:ing)?\\b", 0.2},
    {"(?i)\\b(?:large\\s+)?language\\s+model\\b|\\bas\\s+an\\s+ai\\b", 0.2},
    {"(?i)\\b(?:no\\s+matter\\s+what|under\\s+no\\s+circumstances|at\\s+all\\s+costs|"
     "without\\s+exception)\\b",
     0.2},
    {"(?i)\\b(?:illegal|unethical|immoral|harmful|explicit|nsfw|offensive)\\b", 0.2},
    {"(?i)\\b(?:swear(?:s|ing)?|profanity|curse\\s+words|vulgar)\\b", 0.2},
    // --- System-prompt extraction.
    {"(?i)\\b(?:reveal|show|print|display|output|repeat|tell|give|share|leak|dump|recite|provide|"
     "list|write|reproduce|translate|encode|spell)\\s+(?:me\\s+|us\\s+)?(?:out\\s+)?(?:all\\s+|"
     "back\\s+)?(?:of\\s+)?(?:your|the)\\s+(?:\\w+\\s+){0,2}?(?:system\\s*(?:prompt|message|"
     "instructions?|configuration)|initial\\s+(?:prompt|instructions?|configuration)|(?:hidden|"
     "secret|original|starting|first|internal)\\s+(?:prompt|instructions?|rules)|instructions"
     "\\s+(?:that\\s+)?you\\s+(?:were|have\\s+been|got)|pre-?prompt|prompt\\s+above)",
     1.0},
    {"(?i)\\bwhat\\s+(?:are|were|is)\\s+your\\s+(?:(?:initial|original|first|"
     "system|starting|hidden|secret|real|exact)\\s+)?(?:instructions|system\\s+"
     "prompt|initial\\s+prompt|prompt)\\b",
     1.0},
    {"(?i)\\b(?:repeat|print|output|reproduce|copy|show)\\s+(?:\\w+\\s+){0,3}?"
     "(?:text|words|everything|content|instructions)\\s+(?:above|before\\s+this|"
     "preceding)\\b",
     1.0},
    {"(?i)\\bwhat\\s+were\\s+you\\s+(?:told|instructed|programmed)\\b", 1.0},
    {"(?i)\\b(?:repeat|print|output|show|display|reveal|dump|recite|reproduce|see|read|"
     "view|access|share|leak)\\b[^.\\n]{0,40}?\\bsystem\\s*(?:prompt|message|"
     "instructions?|configuration)",
     1.0},
    {"(?i)\\b(?:output|print|show|display|reveal|repeat)\\s+(?:your\\s+|the\\s+)?"
     "initiali[sz]ation\\s+(?:string|prompt|text|instructions)",
     1.0},
    {"(?i)\\b(?:repeat|print|output|reproduce|copy|show)\\s+(?:\\w+\\s+){0,2}?"
     "(?:above|preceding|previous)\\s+(?:text|words|content|instructions|prompt|message)",
     1.0},
    {"(?i)\\byour\\s+(?:system|initial|original|hidden|secret|starting)\\s+(?:prompt|"
     "instructions?|message|configuration|rules)\\b",
     0.6},
    {"(?i)\\b(?:the|my|your)\\s+system\\s+prompt\\s+(?:is|was|says)\\b", 0.5},
    {"(?i)\\b(?:complete|continue|finish)\\s+(?:this|the\\s+following)\\b", 0.3},
    {"(?i)\\bwhat\\s+are\\s+you\\s+not\\s+(?:supposed|allowed|permitted)\\s+to\\s+"
     "(?:tell|say|reveal|share|discuss)\\b",
     1.0},
    {"(?i)(?:console\\.log|print|echo|printf|puts)\\s*\\(?\\s*system_?prompt", 1.0},
    {"(?i)\\b(?:text|instructions|prompt|words)\\s+(?:that\\s+)?you\\s+were\\s+"
     "given\\b",
     0.8},
    {"(?i)\\brepeat\\s+(?:this|the)\\s+(?:entire\\s+|whole\\s+|full\\s+)?"
     "conversation\\b",
     0.8},
    {"(?i)\\b(?:my|your)\\s+instructions\\s+(?:are|were)\\b|\\bi\\s+was\\s+"
     "instructed\\s+to\\b",
     0.7},
    {"(?i)\\bsystem[\\s_]?prompt\\b|\\bsystem\\s+(?:instructions|message)\\b", 0.5},
    {"(?i)\\binitial(?:ization)?\\s+(?:prompt|instructions|string|configuration)\\b", 0.5},
    {"(?i)\\b(?:start|begin)\\s+your\\s+(?:answer|response|reply)\\s+with\\b", 0.3},
    {"(?i)\\bword\\s+for\\s+word\\b|\\bverbatim\\b", 0.3},
    {"(?i)\\b(?:base64|rot13|rot-13|hex)[\\s-]?(?:encode|encoded|decode)\\b|"
     "(?i)\\bencode\\s+(?:it\\s+)?in\\s+(?:base64|rot13|hex)\\b",
     0.3},
    // --- Hidden text and chat-template smuggling.
    {"<\\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|"
     "start_header_id|end_header_id|begin_of_text)\\|>|\\[/?INST\\]|<</?SYS>>",
     1.0},
    {"(?i)(?:^|\\n)[ \\t]*(?:#{1,4}[ \\t]*)?(?:system|assistant|human|user)[ \\t]*:", 0.4},
    {"(?i)\\[(?:system|admin)(?:\\s+(?:message|note|override|prompt))?\\]", 0.6},
    {"(?i)<!--[^>]{0,300}?\\b(?:ignore|instructions?|assistant|ai|model|system|"
     "prompt)\\b[^>]{0,300}?-->",
     0.8},
    {"(?i)(?:display\\s*:\\s*none|font-size\\s*:\\s*0(?:px)?\\b|visibility\\s*:\\s*"
     "hidden|color\\s*:\\s*(?:white|#fff(?:fff)?)\\b)",
     0.4},
    // A fake end of the conversation followed by a "new" one with other rules.
    {"(?i)\\b(?:end\\s+of\\s+(?:the\\s+|this\\s+)?conversation|new\\s+conversation\\s+(?:will\\s+)?"
     "(?:now\\s+)?begins?|conversation\\s+(?:has\\s+)?(?:ended|been\\s+reset))\\b",
     0.6},
    // --- Instructions addressed to the assistant from inside content (indirect injection).
    {"(?i)\\b(?:add|include|insert|append|integrate|incorporate|embed|mention|modify|augment|"
     "enhance|meld|merge|utilize|execute|enlist|suggest|tease|hint|introduce|provide|replace|use|"
     "remove|group|rearrange|scramble|misspell|jumble|anagram|convert|render|substitute|combine|"
     "promote|offer|direct|link|invite|encourage|ensure|start|begin|end|format|translate|"
     "leverage|employ|fuse|blend|assimilate|embody|make|keep|consider|let|write|answer)\\b"
     "(?:[^.\\n]|\\.\\S){0,80}?\\byour\\s+(?:response|reply|answer|message|output|code(?:base)?|"
     "solution|"
     "implementation|script|algorithm|program|elucidation|explanation)\\b",
     0.4, 1.0,
     "(?i)\\byour\\s+(?:response|reply|answer|message|output|code|solution|implementation|"
     "script|algorithm|program|elucidation|explanation)\\b"},
    {"(?i)\\b(?:in|to|into|within)\\s+your\\s+(?:response|reply|answer|output|"
     "summary|code(?:base)?|solution|implementation)\\b",
     0.1, 0.6},
    {"(?i)\\byour\\s+(?:response|reply|answer|code)\\s+(?:must|should|will)\\b", 0.1, 0.5},
    {"(?i)(?:^|[.!?\\n]\\s*)(?:in|within)\\s+your\\s+(?:response|reply|answer|"
     "output)\\s*,",
     0.2, 1.0},
    {"(?i)\\b(?:utilize|integrate|incorporate|include|use|add|insert|embed|execute|run|"
     "merge|blend)\\s+(?:\\w+\\s+){0,2}?(?:the\\s+)?(?:following|subsequent|below)\\s+code\\b",
     0.2, 1.0},
    {"(?i)\\b(?:following|subsequent|below|this)\\s+code\\s+(?:block|snippet|section|"
     "excerpt|segment|fragment)\\b",
     0.1, 0.6},
    {"(?i)\\byour\\s+(?:code(?:base)?|implementation|solution|algorithm)\\b", 0.0, 0.5},
    {"(?i)\\b(?:dear|attention|note\\s+to\\s+(?:the\\s+)?)\\s*(?:ai|assistant|"
     "chatbot|llm|language\\s+model|model)\\b",
     0.6, 1.0},
    {"(?i)\\b(?:ai|assistant|chatbot|llm)\\s*[,:]\\s*(?:please\\s+)?(?:ignore|you\\s+"
     "must|do\\s+not|don't|stop|instead)\\b",
     0.8, 1.0},
    {"(?i)\\bwhen\\s+(?:you\\s+)?(?:summariz|answer|respond|repl|read)\\w*", 0.1, 0.4},
};

}  // namespace

std::vector<BuiltinDetector> injectionDetectors() {
  std::vector<PatternSpec> patterns;
  for (const Signal& signal : kSignals) {
    PatternSpec spec = pattern(signal.regex, nullptr, 160);
    spec.weight = signal.weight;
    spec.untrusted_weight = signal.untrusted_weight;
    spec.prefilter = signal.prefilter;
    patterns.push_back(spec);
  }
  return {{"injection", DetectorClass::Injection, "internal", true, 0,
           "prompt injection or jailbreak attempt (heuristic)", std::move(patterns), 1.0}};
}

}  // namespace sy::policies
