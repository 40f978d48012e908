{#- A Jinja value as a SQL text literal (quotes doubled), or a typed null. -#}
{% macro sql_text(value) -%}
    {%- if value is none -%}cast(null as {{ string_type() }}){%- else -%}'{{ value | string | replace("'", "''") }}'{%- endif -%}
{%- endmacro %}
