{#- Clean schema names: a model configured with +schema: marts lands in "marts", not "main_marts",
    so BI tools read <db>.marts.customer_segments. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
