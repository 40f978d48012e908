{#- How messages name the fit input: input_path 'x.csv', input_relation 'raw.customers' or
    seed 'demo_customers' (as the staging models label it). -#}
{% macro input_label() %}
    {%- set path = var('input_path', none) -%}
    {%- set relation = var('input_relation', none) -%}
    {%- if path -%}
        {{ return("input_path '" ~ (path | string | replace("'", "''")) ~ "'") }}
    {%- elif relation -%}
        {{ return("input_relation '" ~ (relation | string | replace("'", "''")) ~ "'") }}
    {%- endif -%}
    {{ return("seed '" ~ demo_seed() ~ "'") }}
{% endmacro %}
