#!/usr/bin/env node
// Generates the adversarial DLP corpus (issue 13, item 8): request bodies that carry a synthetic
// protected value (card, IBAN, SSN, e-mail, AWS/GitHub/OpenAI-style key, PEM private key) where
// a gateway that only scans the text it expects would forward it. Deterministic: the same seed
// gives the same corpus, byte for byte.
//
//   node tests/adversarial/generate.mjs [--seed S] [--out FILE.jsonl] [--class C] [--stats]
//
// As a module: generateCorpus({seed}) -> [variant]. A variant is
//   {id, class, surface: chat|messages|embeddings, kind, field, values: [{kind, needles}],
//    body (an object; the runner sets `model`) | rawBody (JSON text with __MODEL__)}.
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

import { KIND_NAMES, makeRng, makeValue, project } from './lib/values.mjs';
import {
  CYRILLIC, DIGIT_FORMS, ENCODINGS, GREEK, PEM_FORMS, SEPARATORS, b64, confuse, mapDigits,
} from './lib/formats.mjs';

export const DEFAULT_SEED = 'switchyard-adversarial-v1';
export const CLASSES = ['control', 'fields', 'anthropic_fields', 'embeddings', 'formatting', 'split', 'caps'];
// Which gateway surfaces a class is sent on (formatting, split and control go to both chat ones).
const BOTH = ['chat', 'messages'];

const sentence = (text) => `Please keep this on file: ${text} Thanks.`;
const record = (text) => `Customer record follows. Field value: ${text}. End of record, please check it.`;

function chatBody(extra = {}, messages = [{ role: 'user', content: 'Summarize the attached record.' }]) {
  return { messages, max_tokens: 32, ...extra };
}
function messagesBody(extra = {}, messages = [{ role: 'user', content: 'Summarize the attached record.' }]) {
  return { max_tokens: 32, messages, ...extra };
}
function userText(surface, text) {
  return surface === 'chat' ? chatBody({}, [{ role: 'user', content: text }]) : messagesBody({}, [{ role: 'user', content: text }]);
}
const keyedSchema = (key) => ({ type: 'object', properties: { [key]: { type: 'string' } } });
const schemaWith = (extra) => ({ type: 'object', properties: { note: { type: 'string', ...extra } } });
const chatTool = (fn) => ({
  type: 'function',
  function: { name: 'lookup', description: 'Look a record up.', parameters: schemaWith({}), ...fn },
});
const assistantCall = (args, extra = {}) => ({
  role: 'assistant', content: null,
  tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: args }, ...extra }],
});
const toolReply = (content) => ({ role: 'tool', tool_call_id: 'call_1', content });
const dataUrl = (mime, text) => `data:${mime};base64,${b64(text)}`;
// Binary files that carry the text: a 1x1 PNG with the text in a tEXt chunk (metadata), a PDF
// whose page text is in a deflated stream, the text gzipped. DLP must read the first and refuse
// the other two toward external backends (it cannot read compressed content).
const pngChunk = (type, data) => {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
};
const pngWithText = (text) => Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  pngChunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0])),
  pngChunk('tEXt', Buffer.from(`Comment\0${text}`, 'latin1')),
  pngChunk('IDAT', zlib.deflateSync(Buffer.from([0, 255, 255, 255]))),
  pngChunk('IEND', Buffer.alloc(0)),
]);
const pdfDeflated = (text) => {
  const stream = zlib.deflateSync(Buffer.from(`BT /F1 12 Tf 72 712 Td (${text}) Tj ET`));
  return Buffer.concat([
    Buffer.from(`%PDF-1.7\n4 0 obj\n<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`),
    stream,
    Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  ]);
};
const binaryUrl = (mime, bytes) => `data:${mime};base64,${bytes.toString('base64')}`;
// The value's digits as a JSON number, when that is exact (no leading zero, below 2^53).
const asNumber = (v) => (v.digits && !v.digits.startsWith('0') && Number.isSafeInteger(Number(v.digits)) ? Number(v.digits) : null);
const raw = (obj, inject) => inject(JSON.stringify({ model: '__MODEL__', ...obj }));

// ---------------------------------------------------------------------------------------------
// OpenAI chat completions: fields the DLP does not read, unknown fields, malformed shapes.
// Each: (v, s) -> body | {rawBody} | null (not applicable), where s = sentence(v.value).
const CHAT_FIELDS = {
  tool_description: (v, s) => chatBody({ tools: [chatTool({ description: s })] }),
  tool_description_streamed: (v, s) => chatBody({ stream: true, tools: [chatTool({ description: s })] }),
  tool_param_description: (v, s) => chatBody({ tools: [chatTool({ parameters: schemaWith({ description: s }) })] }),
  tool_param_enum: (v) => chatBody({ tools: [chatTool({ parameters: schemaWith({ enum: [v.value, 'other'] }) })] }),
  tool_param_default: (v) => chatBody({ tools: [chatTool({ parameters: schemaWith({ default: v.value, examples: [v.value] }) })] }),
  tool_param_property_name: (v) => chatBody({ tools: [chatTool({ parameters: keyedSchema(v.value) })] }),
  tool_name: (v) => chatBody({ tools: [chatTool({ name: `lookup_${v.value}` })] }),
  legacy_function_description: (v, s) => chatBody({ functions: [{ name: 'lookup', description: s, parameters: schemaWith({}) }] }),
  response_format_schema_description: (v, s) => chatBody({
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: schemaWith({ description: s }) } },
  }),
  response_format_schema_name: (v) => chatBody({
    response_format: { type: 'json_schema', json_schema: { name: 'answer', description: v.value, schema: schemaWith({ enum: [v.value] }) } },
  }),
  prediction_content: (v, s) => chatBody({ prediction: { type: 'content', content: s } }),
  prediction_parts: (v, s) => chatBody({ prediction: { type: 'content', content: [{ type: 'text', text: s }] } }),
  message_name: (v) => chatBody({}, [{ role: 'user', name: v.value, content: 'Summarize the attached record.' }]),
  assistant_refusal: (v, s) => chatBody({}, [
    { role: 'user', content: 'Hi.' }, { role: 'assistant', content: null, refusal: s }, { role: 'user', content: 'Go on.' }]),
  assistant_reasoning_content: (v, s) => chatBody({}, [
    { role: 'user', content: 'Hi.' }, { role: 'assistant', content: 'Done.', reasoning_content: s }, { role: 'user', content: 'Go on.' }]),
  tool_call_arguments_object: (v) => chatBody({ tools: [chatTool({})] }, [
    { role: 'user', content: 'Hi.' }, assistantCall({ note: v.value }), toolReply('ok')]),
  tool_call_function_name: (v) => chatBody({ tools: [chatTool({})] }, [
    { role: 'user', content: 'Hi.' },
    { role: 'assistant', content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: `lookup_${v.value}`, arguments: '{}' } }] },
    toolReply('ok')]),
  tool_call_id: (v) => chatBody({ tools: [chatTool({})] }, [
    { role: 'user', content: 'Hi.' },
    { role: 'assistant', content: null, tool_calls: [{ id: v.value, type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: v.value, content: 'ok' }]),
  tool_result_parts: (v, s) => chatBody({ tools: [chatTool({})] }, [
    { role: 'user', content: 'Hi.' }, assistantCall('{}'), toolReply([{ type: 'text', text: s }])]),
  image_data_url: (v) => chatBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'What does this say?' },
    { type: 'image_url', image_url: { url: dataUrl('image/png', record(v.value)) } }] }]),
  image_url_query: (v) => chatBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Describe it.' },
    { type: 'image_url', image_url: { url: `https://images.example.com/scan.png?ref=${encodeURIComponent(v.value)}` } }] }]),
  file_data: (v) => chatBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Read the file.' },
    { type: 'file', file: { filename: 'record.txt', file_data: dataUrl('text/plain', record(v.value)) } }] }]),
  file_name: (v) => chatBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Read the file.' },
    { type: 'file', file: { filename: `${v.value}.pdf`, file_data: dataUrl('application/pdf', '%PDF-1.4 empty') } }] }]),
  image_png_metadata: (v) => chatBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'What is in this picture?' },
    { type: 'image_url', image_url: { url: binaryUrl('image/png', pngWithText(record(v.value))) } }] }]),
  file_pdf_deflated: (v) => chatBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Read the file.' },
    { type: 'file', file: { filename: 'record.pdf', file_data: binaryUrl('application/pdf', pdfDeflated(record(v.value))) } }] }]),
  file_gzip: (v) => chatBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Read the file.' },
    { type: 'file', file: { filename: 'record.txt.gz', file_data: binaryUrl('application/gzip', zlib.gzipSync(record(v.value))) } }] }]),
  input_audio_data: (v) => chatBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Transcribe.' }, { type: 'input_audio', input_audio: { format: 'wav', data: b64(record(v.value)) } }] }]),
  metadata: (v) => chatBody({ metadata: { customer: v.value }, store: true }),
  user: (v) => chatBody({ user: v.value }),
  safety_identifier: (v) => chatBody({ safety_identifier: v.value, prompt_cache_key: v.value }),
  stop: (v) => chatBody({ stop: [v.value, 'END'] }),
  stop_string: (v) => chatBody({ stop: v.value }),
  unknown_top_level_field: (v, s) => chatBody({ x_notes: s }),
  unknown_nested_object: (v, s) => chatBody({ x_context: { items: [{ deep: { text: s } }] } }),
  unknown_message_field: (v, s) => chatBody({}, [{ role: 'user', content: 'Summarize the attached record.', x_attachment: s }]),
  unknown_part_field: (v, s) => chatBody({}, [{ role: 'user', content: [{ type: 'text', text: 'Summarize.', annotation: s }] }]),
  unknown_part_type: (v, s) => chatBody({}, [{ role: 'user', content: [{ type: 'text', text: 'Summarize.' }, { type: 'note', text: s }] }]),
  part_text_under_content_key: (v, s) => chatBody({}, [{ role: 'user', content: [{ type: 'text', content: s }] }]),
  unknown_role: (v, s) => chatBody({}, [{ role: 'narrator', content: s }, { role: 'user', content: 'Summarize.' }]),
  function_role: (v, s) => chatBody({}, [{ role: 'user', content: 'Hi.' }, { role: 'function', name: 'lookup', content: s }]),
  stream_options_extra: (v, s) => chatBody({ stream: false, stream_options: { include_usage: true, note: s } }),
  web_search_location: (v) => chatBody({ web_search_options: { user_location: { type: 'approximate', approximate: { city: v.value } } } }),
  tool_choice_name: (v) => chatBody({ tools: [chatTool({})], tool_choice: { type: 'function', function: { name: v.value } } }),
  modalities: (v) => chatBody({ modalities: ['text', v.value] }),
  service_tier: (v) => chatBody({ service_tier: v.value }),
  content_object: (v, s) => chatBody({}, [{ role: 'user', content: { type: 'text', text: s } }]),
  content_array_of_strings: (v, s) => chatBody({}, [{ role: 'user', content: ['Summarize:', s] }]),
  content_number: (v) => (asNumber(v) ? chatBody({}, [{ role: 'user', content: asNumber(v) }]) : null),
  content_nested_array: (v, s) => chatBody({}, [{ role: 'user', content: [[{ type: 'text', text: s }]] }]),
  system_content_object: (v, s) => chatBody({}, [{ role: 'system', content: { text: s } }, { role: 'user', content: 'Hi.' }]),
  json_duplicate_messages_key: (v, s) => ({ rawBody: raw({ messages: [{ role: 'user', content: 'hello' }] },
    (j) => j.replace(/}$/, `,"messages":[{"role":"user","content":${JSON.stringify(s)}}]}`)) }),
  json_duplicate_content_key: (v, s) => ({ rawBody: raw({ messages: [{ role: 'user', content: 'hello' }] },
    (j) => j.replace('"content":"hello"', `"content":"hello","content":${JSON.stringify(s)}`)) }),
  json_invalid_utf8_before_value: (v, s) => ({ rawBody: raw({ messages: [{ role: 'user', content: 'hello' }] },
    (j) => j.replace('"content":"hello"', `"content":"hello \xff\xfe ${JSON.stringify(s).slice(1, -1)}"`)), rawEncoding: 'latin1' }),
  json_lone_surrogate_before_value: (v, s) => ({ rawBody: raw({ messages: [{ role: 'user', content: 'hello' }] },
    (j) => j.replace('"content":"hello"', `"content":"\\ud800 ${JSON.stringify(s).slice(1, -1)}"`)) }),
};

// ---------------------------------------------------------------------------------------------
// Anthropic Messages (POST /v1/messages): the equivalent places.
const anthropicTool = (extra) => ({ name: 'lookup', description: 'Look a record up.', input_schema: schemaWith({}), ...extra });
const toolUseTurns = (input, extra = {}, result = 'ok') => [
  { role: 'user', content: 'Hi.' },
  { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input, ...extra }] },
  { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: result }] },
];
const MESSAGES_FIELDS = {
  system_block_unknown_field: (v, s) => messagesBody({ system: [{ type: 'text', text: 'Be brief.', note: s }] }),
  system_block_cache_control_extra: (v, s) => messagesBody({
    system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral', note: s } }],
  }),
  system_object: (v, s) => messagesBody({ system: { type: 'text', text: s } }),
  tool_description: (v, s) => messagesBody({ tools: [anthropicTool({ description: s })] }),
  tool_description_streamed: (v, s) => messagesBody({ stream: true, tools: [anthropicTool({ description: s })] }),
  tool_schema_description: (v, s) => messagesBody({ tools: [anthropicTool({ input_schema: schemaWith({ description: s }) })] }),
  tool_schema_enum: (v) => messagesBody({ tools: [anthropicTool({ input_schema: schemaWith({ enum: [v.value] }) })] }),
  tool_schema_property_name: (v) => messagesBody({ tools: [anthropicTool({ input_schema: keyedSchema(v.value) })] }),
  tool_name: (v) => messagesBody({ tools: [anthropicTool({ name: `lookup_${v.value}` })] }),
  tool_use_input: (v) => messagesBody({ tools: [anthropicTool({})] }, toolUseTurns({ note: v.value })),
  tool_use_input_key: (v) => messagesBody({ tools: [anthropicTool({})] }, toolUseTurns({ [v.value]: 1 })),
  tool_use_id: (v) => messagesBody({ tools: [anthropicTool({})] }, [
    { role: 'user', content: 'Hi.' },
    { role: 'assistant', content: [{ type: 'tool_use', id: v.value, name: 'lookup', input: {} }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: v.value, content: 'ok' }] }]),
  tool_result_string: (v, s) => messagesBody({ tools: [anthropicTool({})] }, toolUseTurns({}, {}, s)),
  tool_result_blocks: (v, s) => messagesBody({ tools: [anthropicTool({})] }, toolUseTurns({}, {}, [{ type: 'text', text: s }])),
  tool_result_document: (v) => messagesBody({ tools: [anthropicTool({})] }, toolUseTurns({}, {}, [
    { type: 'document', source: { type: 'text', media_type: 'text/plain', data: record(v.value) } }])),
  metadata_user_id: (v) => messagesBody({ metadata: { user_id: v.value } }),
  metadata_unknown_key: (v) => messagesBody({ metadata: { user_id: 'u1', customer: v.value } }),
  image_base64: (v) => messagesBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'What does this say?' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: b64(record(v.value)) } }] }]),
  image_url_query: (v) => messagesBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Describe it.' },
    { type: 'image', source: { type: 'url', url: `https://images.example.com/scan.png?ref=${encodeURIComponent(v.value)}` } }] }]),
  document_text: (v) => messagesBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Read it.' },
    { type: 'document', source: { type: 'text', media_type: 'text/plain', data: record(v.value) } }] }]),
  document_base64_pdf: (v) => messagesBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Read it.' },
    { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: b64(`%PDF-1.4\n${record(v.value)}`) } }] }]),
  image_png_metadata: (v) => messagesBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'What is in this picture?' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pngWithText(record(v.value)).toString('base64') } }] }]),
  document_pdf_deflated: (v) => messagesBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Read it.' },
    { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdfDeflated(record(v.value)).toString('base64') } }] }]),
  document_title_context: (v) => messagesBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Read it.' },
    { type: 'document', title: v.value, context: v.value, source: { type: 'text', media_type: 'text/plain', data: 'nothing here' } }] }]),
  document_content_blocks: (v, s) => messagesBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Read it.' },
    { type: 'document', source: { type: 'content', content: [{ type: 'text', text: s }] } }] }]),
  search_result_block: (v, s) => messagesBody({}, [{ role: 'user', content: [
    { type: 'search_result', source: 'https://kb.example.com/1', title: 'KB', content: [{ type: 'text', text: s }] },
    { type: 'text', text: 'Use the result.' }] }]),
  thinking_block: (v, s) => messagesBody({}, [
    { role: 'user', content: 'Hi.' },
    { role: 'assistant', content: [{ type: 'thinking', thinking: s, signature: 'sig' }, { type: 'text', text: 'Done.' }] },
    { role: 'user', content: 'Go on.' }]),
  redacted_thinking_block: (v) => messagesBody({}, [
    { role: 'user', content: 'Hi.' },
    { role: 'assistant', content: [{ type: 'redacted_thinking', data: b64(record(v.value)) }, { type: 'text', text: 'Done.' }] },
    { role: 'user', content: 'Go on.' }]),
  text_block_citations: (v, s) => messagesBody({}, [{ role: 'user', content: [
    { type: 'text', text: 'Summarize.',
      citations: [{ type: 'char_location', cited_text: s, document_index: 0, start_char_index: 0, end_char_index: 5 }] }] }]),
  text_block_unknown_field: (v, s) => messagesBody({}, [{ role: 'user', content: [{ type: 'text', text: 'Summarize.', note: s }] }]),
  unknown_block_type: (v, s) => messagesBody({}, [{ role: 'user', content: [{ type: 'text', text: 'Summarize.' }, { type: 'note', text: s }] }]),
  unknown_top_level_field: (v, s) => messagesBody({ x_notes: s }),
  unknown_message_field: (v, s) => messagesBody({}, [{ role: 'user', content: 'Summarize.', x_attachment: s }]),
  stop_sequences: (v) => messagesBody({ stop_sequences: [v.value] }),
  tool_choice_name: (v) => messagesBody({ tools: [anthropicTool({})], tool_choice: { type: 'tool', name: v.value } }),
  mcp_servers: (v) => messagesBody({
    mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'kb', authorization_token: v.value }],
  }),
  container: (v) => messagesBody({ container: v.value }),
  content_object: (v, s) => messagesBody({}, [{ role: 'user', content: { type: 'text', text: s } }]),
  content_array_of_strings: (v, s) => messagesBody({}, [{ role: 'user', content: ['Summarize:', s] }]),
  content_number: (v) => (asNumber(v) ? messagesBody({}, [{ role: 'user', content: asNumber(v) }]) : null),
  json_duplicate_messages_key: (v, s) => ({ rawBody: raw({ max_tokens: 32, messages: [{ role: 'user', content: 'hello' }] },
    (j) => j.replace(/}$/, `,"messages":[{"role":"user","content":${JSON.stringify(s)}}]}`)) }),
  json_duplicate_system_key: (v, s) => ({ rawBody: raw({ max_tokens: 32, system: 'Be brief.', messages: [{ role: 'user', content: 'hello' }] },
    (j) => j.replace(/}$/, `,"system":${JSON.stringify(s)}}`)) }),
};

// ---------------------------------------------------------------------------------------------
// Embeddings (POST /v1/embeddings).
const EMBEDDINGS_FIELDS = {
  user: (v) => ({ input: 'hello world', user: v.value }),
  unknown_top_level_field: (v, s) => ({ input: 'hello world', x_notes: s }),
  metadata: (v) => ({ input: 'hello world', metadata: { customer: v.value } }),
  encoding_format: (v) => ({ input: 'hello world', encoding_format: v.value }),
  input_object: (v, s) => ({ input: { text: s } }),
  input_nested_array: (v, s) => ({ input: [['hello', s]] }),
  input_number: (v) => (asNumber(v) ? { input: asNumber(v) } : null),
  input_base64_wrapped: (v) => ({ input: ENCODINGS.base64_wrapped_76(record(v.value)) }),
  input_array_second: (v, s) => ({ input: ['hello world', s] }),
};

// ---------------------------------------------------------------------------------------------
// Formatting: the value in the user's message text (a field that is scanned), written oddly.
function formattings(v, rng) {
  const out = {};
  const joinGroups = (groups, sep) => groups.join(sep);
  if (v.kind === 'card') {
    for (const [name, sep] of Object.entries(SEPARATORS)) out[`card_sep_${name}`] = joinGroups(v.groups, sep);
    out.card_mixed_separators = `${v.groups[0]}-${v.groups[1]}/${v.groups.slice(2).join('\n')}`;
    out.card_odd_grouping = `${v.digits.slice(0, 5)} ${v.digits.slice(5, 8)} ${v.digits.slice(8, 12)} ${v.digits.slice(12)}`;
    out.card_space_every_digit = [...v.digits].join(' ');
    out.card_dot_every_digit = [...v.digits].join('.');
    out.card_newline_every_digit = [...v.digits].join('\n');
  }
  if (v.kind === 'iban') {
    out.iban_newline_groups = v.groups.join('\n');
    out.iban_broken_mid_group = `${v.compact.slice(0, 7)}\n${v.compact.slice(7, 15)}\n${v.compact.slice(15)}`;
    out.iban_crlf = v.groups.join('\r\n');
    out.iban_tabs = v.groups.join('\t');
    out.iban_dashes = v.groups.join('-');
    out.iban_lowercase = v.groups.join(' ').toLowerCase();
    out.iban_slash = v.groups.join('/');
  }
  if (v.kind === 'ssn') {
    for (const name of ['newline', 'crlf', 'tab', 'slash', 'comma', 'en_dash', 'double_space', 'underscore']) {
      out[`ssn_sep_${name}`] = v.groups.join(SEPARATORS[name]);
    }
    out.ssn_space_every_digit = [...v.digits].join(' ');
  }
  if (v.digits || v.kind === 'iban') {
    const base = v.kind === 'iban' ? v.value : v.value;
    for (const form of Object.keys(DIGIT_FORMS)) out[`${v.kind}_digits_${form}`] = mapDigits(base, form);
    out[`${v.kind}_digits_mixed_superscript`] = mapDigits(base, 'superscript', { every: 2 });
    out[`${v.kind}_digits_mixed_arabic_indic`] = mapDigits(base, 'arabic_indic', { every: 3 });
  }
  if (['aws', 'github', 'openai'].includes(v.kind)) {
    out[`${v.kind}_cyrillic_prefix`] = confuse(v.value, CYRILLIC, { to: v.prefix.length });
    out[`${v.kind}_greek_prefix`] = confuse(v.value, GREEK, { to: v.prefix.length });
    out[`${v.kind}_cyrillic_body`] = confuse(v.value, CYRILLIC, { from: v.prefix.length, step: 3 });
    out[`${v.kind}_cyrillic_everywhere`] = confuse(v.value, CYRILLIC);
    out[`${v.kind}_greek_body`] = confuse(v.value, GREEK, { from: v.prefix.length, step: 2 });
    const fullwidth = (c) => (/[A-Za-z0-9]/.test(c) ? String.fromCodePoint(c.codePointAt(0) + 0xfee0) : c);
    out[`${v.kind}_fullwidth_letters`] = [...v.value].map(fullwidth).join('');
    out[`${v.kind}_split_by_newline`] = `${v.value.slice(0, 12)}\n${v.value.slice(12)}`;
  }
  if (v.kind === 'email') {
    out.email_cyrillic_domain = `${v.local}@${confuse(v.domain, CYRILLIC)}`;
    out.email_cyrillic_local = `${confuse(v.local, CYRILLIC, { step: 2 })}@${v.domain}`;
    out.email_fullwidth_at = `${v.local}＠${v.domain}`;
    out.email_spaced_at = `${v.local} @ ${v.domain}`;
    out.email_newline_at = `${v.local}\n@${v.domain}`;
    out.email_small_commercial_at = `${v.local}﹫${v.domain}`;
  }
  if (v.kind === 'iban') {
    out.iban_cyrillic_country = confuse(v.value.slice(0, 2), CYRILLIC) + v.value.slice(2);
    out.iban_greek_country = confuse(v.value.slice(0, 2), GREEK) + v.value.slice(2);
  }
  if (v.kind === 'pem') {
    for (const [name, fn] of Object.entries(PEM_FORMS)) out[`pem_${name}`] = fn(v);
  }
  // Encodings of a sentence carrying the value (every kind).
  for (const [name, fn] of Object.entries(ENCODINGS)) out[`${v.kind}_${name}`] = fn(record(v.value));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Split: the value's pieces in different messages or parts of one request.
function splits(surface, v) {
  const out = {};
  const msg = (role, content) => ({ role, content });
  const mk = (messages, extra = {}) => (surface === 'chat' ? chatBody(extra, messages) : messagesBody(extra, messages));
  // Each entry: {body, pieces}: the leak check counts the value as leaked when every piece arrives.
  const twoUsers = (a, b) => ({
    body: mk([msg('user', `First part: ${a}`), msg('assistant', 'Noted.'), msg('user', `${b} is the rest.`)]),
    pieces: [a, b],
  });
  const text = (t) => ({ type: 'text', text: t });
  const twoParts = (a, b) => ({
    body: mk([msg('user', [text(`First part: ${a}`), text(`${b} is the rest.`)])]),
    pieces: [a, b],
  });
  const half = (text, at = Math.floor(text.length / 2)) => [text.slice(0, at), text.slice(at)];
  if (v.kind === 'card') {
    const [a, b] = [v.groups.slice(0, 2).join(' '), v.groups.slice(2).join(' ')];
    out.card_two_user_messages = twoUsers(a, b);
    out.card_two_user_messages_mid_group = twoUsers(...half(v.digits, 6));
    out.card_two_text_parts = twoParts(a, b);
    out.card_adjacent_user_messages = { body: mk([msg('user', a), msg('user', b)]), pieces: [a, b] };
    const sys = `Account prefix ${a}`;
    const userMsg = msg('user', `and it ends ${b}`);
    out.card_system_and_user = {
      body: surface === 'chat' ? mk([msg('system', sys), userMsg]) : mk([userMsg], { system: sys }),
      pieces: [a, b],
    };
    out.card_four_messages_one_group_each = {
      body: mk(v.groups.flatMap((g, i) => [msg('user', g), ...(i < v.groups.length - 1 ? [msg('assistant', 'ok')] : [])])),
      pieces: v.groups,
    };
  }
  if (v.kind === 'iban') out.iban_two_user_messages = twoUsers(...half(v.compact, 10));
  if (v.kind === 'ssn') out.ssn_two_user_messages = twoUsers(`${v.groups[0]}-${v.groups[1]}`, v.groups[2]);
  if (v.kind === 'email') out.email_split_at_at = twoUsers(v.local, `@${v.domain}`);
  for (const kind of ['aws', 'github', 'openai']) {
    if (v.kind !== kind) continue;
    out[`${kind}_two_user_messages`] = twoUsers(...half(v.value));
    out[`${kind}_two_text_parts`] = twoParts(...half(v.value));
  }
  if (v.kind === 'pem') {
    const body = v.lines.join('\n');
    out.pem_three_messages = {
      body: mk([msg('user', v.header), msg('assistant', 'ok'), msg('user', body), msg('assistant', 'ok'), msg('user', v.footer)]),
    };
    out.pem_three_parts = { body: mk([msg('user', [text(v.header), text(body), text(v.footer)])]) };
    out.pem_header_alone_then_rest = { body: mk([msg('user', v.header), msg('user', `${body}\n${v.footer}`)]) };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Caps: more than 65,536 candidate matches of one pattern before the protected value.
function caps(rng) {
  const out = [];
  // Luhn-invalid 16-digit candidates: the card pattern matches each, the validator rejects each.
  const card = makeValue(rng, 'card');
  let badCard = '4000000000000001';
  if (badCard === card.digits) badCard = '4000000000000009';
  const filler = `${badCard} `.repeat(70_000);
  out.push({ surface: 'chat', kind: 'card', field: 'card_after_70000_card_candidates',
    body: chatBody({}, [{ role: 'user', content: `${filler}\nThe real one: ${card.value}` }]), value: card });
  // SSN-shaped candidates with an invalid area (000): matched, then rejected.
  const ssn = makeValue(rng, 'ssn');
  const ssnFiller = '000-12-3456 '.repeat(70_000);
  out.push({ surface: 'messages', kind: 'ssn', field: 'ssn_after_70000_ssn_candidates',
    body: messagesBody({}, [{ role: 'user', content: `${ssnFiller}\nThe real one: ${ssn.value}` }]), value: ssn });
  return out;
}

// ---------------------------------------------------------------------------------------------

function needlesOf(v) {
  return { kind: v.kind, needles: v.needles };
}

export function generateCorpus({ seed = DEFAULT_SEED } = {}) {
  const variants = [];
  const add = (cls, surface, kind, field, built, v, pieces) => {
    if (!built) return;
    const value = needlesOf(v);
    if (pieces) value.pieces = pieces.map(project);
    const variant = { id: `${cls}.${surface}.${field}.${kind}`, class: cls, surface, kind, field, values: [value] };
    if (built.rawBody !== undefined) {
      variant.rawBody = built.rawBody;
      if (built.rawEncoding) variant.rawEncoding = built.rawEncoding;
    } else {
      variant.body = built;
    }
    variants.push(variant);
  };
  // A fresh value per variant (its own RNG stream), so a leak is attributable to one variant.
  const valueFor = (key, kind) => makeValue(makeRng(`${seed}/${key}`), kind);

  for (const kind of KIND_NAMES) {
    // control: what the issue says works today (plain text, full-width digits, zero-width
    // characters, \u escapes, plain base64). Expected to be 0 leaks on any build.
    for (const surface of [...BOTH, 'embeddings']) {
      const v = valueFor(`control/${surface}/${kind}`, kind);
      const body = surface === 'embeddings' ? { input: sentence(v.value) } : userText(surface, sentence(v.value));
      add('control', surface, kind, 'plain', body, v);
    }
    for (const surface of BOTH) {
      const v = valueFor(`control-stream/${surface}/${kind}`, kind);
      add('control', surface, kind, 'plain_streamed', { ...userText(surface, sentence(v.value)), stream: true }, v);
    }
    for (const surface of BOTH) {
      const v = valueFor(`control-b64/${surface}/${kind}`, kind);
      add('control', surface, kind, 'plain_base64', userText(surface, `Decode: ${b64(record(v.value))}`), v);
    }
  }
  for (const surface of BOTH) {
    const card = valueFor(`control-fw/${surface}`, 'card');
    add('control', surface, 'card', 'fullwidth_digits', userText(surface, sentence(mapDigits(card.value, 'fullwidth'))), card);
    const gh = valueFor(`control-zw/${surface}`, 'github');
    const zeroWidth = `${gh.value.slice(0, 10)}\u200b${gh.value.slice(10, 20)}\u200d${gh.value.slice(20)}`;
    add('control', surface, 'github', 'zero_width_inside', userText(surface, sentence(zeroWidth)), gh);
    const email = valueFor(`control-u/${surface}`, 'email');
    const escaped = [...email.value].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const rawBody = JSON.stringify({ model: '__MODEL__', ...userText(surface, 'XX') }).replace('"XX"', `"Mail ${escaped} now"`);
    add('control', surface, 'email', 'json_unicode_escapes', { rawBody }, email);
  }

  for (const kind of KIND_NAMES) {
    for (const [field, fn] of Object.entries(CHAT_FIELDS)) {
      const v = valueFor(`fields/chat/${field}/${kind}`, kind);
      add('fields', 'chat', kind, field, fn(v, sentence(v.value)), v);
    }
    for (const [field, fn] of Object.entries(MESSAGES_FIELDS)) {
      const v = valueFor(`anthropic/${field}/${kind}`, kind);
      add('anthropic_fields', 'messages', kind, field, fn(v, sentence(v.value)), v);
    }
    for (const [field, fn] of Object.entries(EMBEDDINGS_FIELDS)) {
      const v = valueFor(`embeddings/${field}/${kind}`, kind);
      add('embeddings', 'embeddings', kind, field, fn(v, sentence(v.value)), v);
    }
    for (const surface of BOTH) {
      const template = valueFor(`formatting/${surface}/${kind}`, kind);
      for (const field of Object.keys(formattings(template))) {
        // Each formatting gets its own value; the field names do not depend on the value.
        const v = valueFor(`formatting/${surface}/${field}/${kind}`, kind);
        const text = formattings(v)[field];
        // A look-alike table with nothing to replace leaves the value as it was: not a variant.
        if (text === v.value) continue;
        add('formatting', surface, kind, field, userText(surface, sentence(text)), v);
      }
      for (const field of Object.keys(splits(surface, valueFor(`split/${surface}/${kind}`, kind)))) {
        const v = valueFor(`split/${surface}/${field}/${kind}`, kind);
        const { body, pieces } = splits(surface, v)[field];
        add('split', surface, kind, field, body, v, pieces);
      }
    }
  }
  for (const c of caps(makeRng(`${seed}/caps`))) add('caps', c.surface, c.kind, c.field, c.body, c.value);
  return variants;
}

// A short fingerprint of the corpus (its JSONL text), so two runs can tell they sent the same.
export function corpusDigest(variants) {
  const hash = crypto.createHash('sha256');
  for (const v of variants) hash.update(`${JSON.stringify(v)}\n`);
  return hash.digest('hex').slice(0, 16);
}

// Counts per class and surface: {class: {surface: n, total: n}}.
export function countVariants(variants) {
  const counts = {};
  for (const v of variants) {
    counts[v.class] ??= { total: 0 };
    counts[v.class][v.surface] = (counts[v.class][v.surface] ?? 0) + 1;
    counts[v.class].total += 1;
  }
  return counts;
}

function main(argv) {
  const args = { seed: DEFAULT_SEED, out: null, cls: null, stats: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seed') args.seed = argv[++i];
    else if (a === '--out') args.out = argv[++i];
    else if (a === '--class') args.cls = argv[++i];
    else if (a === '--stats') args.stats = true;
    else {
      console.error(`usage: generate.mjs [--seed S] [--out FILE.jsonl] [--class C] [--stats]\nunknown argument: ${a}`);
      process.exit(2);
    }
  }
  let variants = generateCorpus({ seed: args.seed });
  if (args.cls) variants = variants.filter((v) => v.class === args.cls);
  if (args.out) {
    fs.writeFileSync(args.out, `${variants.map((v) => JSON.stringify(v)).join('\n')}\n`);
  }
  if (args.stats || !args.out) {
    console.log(`${variants.length} variants (seed ${args.seed}, digest ${corpusDigest(variants)})`);
    for (const [cls, c] of Object.entries(countVariants(variants))) {
      const per = Object.entries(c).filter(([k]) => k !== 'total').map(([k, n]) => `${k} ${n}`).join(', ');
      console.log(`  ${cls.padEnd(17)} ${String(c.total).padStart(4)}  (${per})`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main(process.argv.slice(2));
}
