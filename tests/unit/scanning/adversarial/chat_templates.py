"""Chat templates in the public form of well-known model families (written here from their
published shape), and template-injection payloads that spell no dunder name literally."""

from __future__ import annotations

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}"
)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}"
    "{% endif %}{% endfor %}"
)
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}"
    "{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + "
    "message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}"
)
QWEN = (
    "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- if messages[0].role == 'system' %}"
    "{{- messages[0].content + '\\n\\n' }}{%- endif %}"
    '{{- "# Tools\\n\\nYou may call one or more functions.\\n<tools>" }}'
    '{%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}'
    "{{- \"\\n</tools><|im_end|>\\n\" }}{%- else %}{%- if messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endif %}"
    "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}"
    "{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}"
    "{%- if ns.multi_step_tool and message.role == 'user' and message.content is string and not"
    "(message.content.startswith('<tool_response>') and "
    "message.content.endswith('</tool_response>')) %}"
    "{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}{%- endif %}"
    "{%- endfor %}{%- for message in messages %}"
    "{%- if message.content is string %}{%- set content = message.content %}{%- else %}"
    "{%- set content = '' %}{%- endif %}"
    "{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}"
    "{%- elif message.role == 'assistant' %}{%- if '</think>' in content %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}{%- endif %}"
    "{{- '<|im_start|>' + message.role + '\\n' + content }}"
    "{%- if message.tool_calls %}{%- for tool_call in message.tool_calls %}"
    "{%- if tool_call.function %}{%- set tool_call = tool_call.function %}{%- endif %}"
    '{{- \'<tool_call>\\n{"name": "\' }}{{- tool_call.name }}{{- \'", "arguments": \' }}'
    "{%- if tool_call.arguments is string %}{{- tool_call.arguments }}{%- else %}"
    "{{- tool_call.arguments | tojson }}{%- endif %}{{- '}\\n</tool_call>' }}{%- endfor %}"
    "{%- endif %}{{- '<|im_end|>\\n' }}{%- elif message.role == 'tool' %}"
    "{{- '<|im_start|>user\\n<tool_response>\\n' }}{{- content }}"
    "{{- '\\n</tool_response><|im_end|>\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
PHI3 = (
    "{% for message in messages %}{% if message['role'] == 'system' %}"
    "{{'<|system|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'user' %}"
    "{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'assistant' %}"
    "{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}"
)
LLAMA31_TOOLS = (
    "{{- bos_token }}{%- if custom_tools is defined %}{%- set tools = custom_tools %}{%- endif %}"
    "{%- if not tools_in_user_message is defined %}"
    "{%- set tools_in_user_message = true %}{%- endif %}"
    "{%- if not date_string is defined %}{%- if strftime_now is defined %}"
    "{%- set date_string = strftime_now('%d %b %Y') %}{%- else %}"
    "{%- set date_string = '26 Jul 2024' %}{%- endif %}{%- endif %}"
    "{%- if messages[0]['role'] == 'system' %}"
    "{%- set system_message = messages[0]['content']|trim %}"
    "{%- set messages = messages[1:] %}{%- else %}{%- set system_message = '' %}{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}"
    "{{- 'Today Date: ' + date_string + '\\n\\n' }}{{- system_message }}{{- '<|eot_id|>' }}"
    "{%- for message in messages %}{%- if not (message.role == 'ipython' or message.role == 'tool'"
    " or 'tool_calls' in message) %}{{- '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}"
    "{%- elif 'tool_calls' in message %}{%- set tool_call = message.tool_calls[0].function %}"
    "{{- '{\"name\": \"' + tool_call.name + '\", ' }}{{- '\"parameters\": ' }}"
    "{{- tool_call.arguments | tojson }}{{- '}' }}{{- '<|eot_id|>' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif %}"
)
ZEPHYR_MENTIONS_OS = (
    "{% for message in messages %}{% if message['role'] == 'system' %}"
    '{{ \'<|system|>\\nYou are a shell expert. Never suggest os.system("rm -rf /") or '
    '__import__("subprocess").popen; explain {{ cycler.__init__ }} is an attack.\' }}{% endif %}'
    "{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)
DEEPSEEK_MACRO = (
    "{% macro render(msg) %}{{ msg['role'] | upper }}: {{ msg['content'] | trim }}{% endmacro %}"
    "{% for m in messages | selectattr('role', 'ne', 'tool') %}{{ render(m) }}\\n{% endfor %}"
    "{{ messages | map(attribute='content') | join('\\n') }}"
    "{% for k, v in (messages[0] | items) %}{{ k }}={{ v | string }}{% endfor %}"
)

BENIGN = {
    "llama3": LLAMA3,
    "mistral": MISTRAL,
    "chatml": CHATML,
    "gemma": GEMMA,
    "qwen": QWEN,
    "phi3": PHI3,
    "llama31_tools": LLAMA31_TOOLS,
    "zephyr_mentions_os": ZEPHYR_MENTIONS_OS,
    "deepseek_macro": DEEPSEEK_MACRO,
}

# Server-side template injection without a literal dunder (or with one, for the base case).
MALICIOUS = {
    "dunder_literal": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "concat_key": "{% set a = '__cla' ~ 'ss__' %}{{ messages[a] }}",
    "plus_key": "{% set k = '_' + '_class_' + '_' %}{{ ''[k] }}",
    "join_key": "{{ messages[['__cl', 'ass__'] | join] }}",
    "reverse_key": "{{ messages['__ssalc__' | reverse] }}",
    "format_filter": "{{ messages['%sclass%s' | format('__', '__')] }}",
    "attr_filter": "{{ messages | attr('__cl' ~ 'ass__') }}",
    "attr_filter_const": "{{ (messages | attr('__class__')).__mro__ }}",
    "escaped_key": "{{ messages['\\x5f\\x5fclass\\x5f\\x5f'] }}",
    "unicode_escape_key": "{{ messages['\\u005f\\u005fclass\\u005f\\u005f'] }}",
    "lipsum_globals": "{{ lipsum['__glo' ~ 'bals__'] }}",
    "lipsum_attr": "{{ lipsum.x }}",
    "self_context": "{{ self._TemplateReference__context }}",
    "joiner_attr": "{{ joiner.__init__ }}",
    "cycler_item": "{{ cycler['next'] }}",
    "namespace_call_init": "{{ namespace.__init__ }}",
    "map_attr_filter": "{{ messages | map('attr', '__class__') | list }}",
    "map_computed_filter": "{% set f = 'at' ~ 'tr' %}{{ messages | map(f, 'x') | list }}",
    "selectattr_dunder": "{{ messages | selectattr('__class__') | list }}",
    "sort_attr_dunder": "{{ messages | sort(attribute='content.__class__') }}",
    "format_method": "{{ '{0.__class__}'.format(messages) }}",
    "str_format_no_dunder": "{{ ('{0.' ~ '_' * 2 ~ 'class' ~ '_' * 2 ~ '}').format(messages) }}",
    "replace_key": "{{ messages['XXclassXX' | replace('X', '_')] }}",
    "loop_internal": "{% for m in messages %}{{ loop._after }}{% endfor %}",
    "unknown_filter": "{{ messages | pprint }}",
    "unknown_function": "{{ cycler('a', 'b').next() }}",
    "unknown_test": "{% if messages is callable %}x{% endif %}",
    "computed_call": "{{ (messages | first)['content'].strip.__self__ }}",
    "call_on_item": "{{ messages[0]['content']() }}",
    "macro_attr": "{% macro m() %}x{% endmacro %}{{ m._func }}",
    "tojson_then_key": "{% set k = messages | tojson %}{{ messages[k] }}",
    "mro_attr": "{{ messages.mro }}",
    "getitem_globals_name": "{% set g = raise_exception %}{{ g['__globals__'] }}",
}

MALICIOUS.update(
    {
        "for_built_key": "{% for k in ['__cla' ~ 'ss__'] %}{{ messages[k] }}{% endfor %}",
        "ns_built_key": (
            "{% set ns = namespace(k='') %}{% set ns.k = '__cla' ~ 'ss__' %}{{ messages[ns.k] }}"
        ),
        "ns_ctor_built_key": "{% set ns = namespace(k='__cl' ~ 'ass__') %}{{ messages[ns.k] }}",
        "dict_ctor_key": "{{ messages[dict(__class__=1) | first] }}",
    }
)
