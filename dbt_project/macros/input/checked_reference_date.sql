{#- Var reference_date, checked: null, or an ISO date (yyyy-mm-dd) that is then safe to quote. -#}
{% macro checked_reference_date() %}
    {%- set value = var('reference_date', none) -%}
    {%- if value is none or (value | string | lower) in ['', 'none', 'null'] -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value | string) -%}
        {{ exceptions.raise_compiler_error("var 'reference_date': expected a date as yyyy-mm-dd, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | string) }}
{% endmacro %}
