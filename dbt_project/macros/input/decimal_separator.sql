{#- Var input_decimal_separator, checked: "." (default) or ",". -#}
{% macro decimal_separator() %}
    {%- set separator = (var('input_decimal_separator', none) or '.') | string | trim -%}
    {%- if separator not in ['.', ','] -%}
        {{ exceptions.raise_compiler_error("var 'input_decimal_separator': expected '.' or ',', got '" ~ separator ~ "'") }}
    {%- endif -%}
    {{ return(separator) }}
{% endmacro %}
