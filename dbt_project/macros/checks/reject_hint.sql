{#- A hint for the most common reject reason, when it points at a var: a decimal-comma number,
    a delimiter that splits lines wrongly, an encoding other than UTF-8. -#}
{% macro reject_hint(reason_class, example) %}
    {%- set example = example | string -%}
    {%- if '\x00' in example -%}
        {{ return(': the text holds NUL bytes, is the file UTF-16? set input_encoding: utf-16') }}
    {%- elif 'invalid encoding' in reason_class -%}
        {{ return(': is the file not UTF-8? set input_encoding (latin-1 or utf-16)') }}
    {%- elif 'missing columns' in reason_class or 'too many columns' in reason_class -%}
        {{ return(': is the delimiter right? set input_delimiter (e.g. ";")') }}
    {%- elif reason_class.endswith('not a number') and modules.re.search("'[+-]?[0-9]*,[0-9]+'", example) -%}
        {{ return(": is it a decimal-comma file? set input_decimal_separator: ','") }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
