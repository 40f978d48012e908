{{ config(materialized='table') }}

{#- New customers to score against the stored fit, checked like the fit input. Without var
    score_input_path it holds the fit input itself, so the SQL scoring can be compared with the
    Python assignment on the fitted data. -#}
{%- set score_input_path = var('score_input_path', none) -%}

{% if score_input_path %}
{{ customer_rows(customer_input(score_input_path, none, var_prefix='score_input')) }}
{% else %}
select * from {{ ref('stg_customer_input') }}
{% endif %}
