{#- New customers to score against the stored fit, checked like the fit input. Without var
    score_input_path it is a view of the fit input itself, so the SQL scoring can be compared
    with the Python assignment on the fitted data without copying every row. -#}
{%- set score_input_path = var('score_input_path', none) -%}
{{ config(materialized='table' if score_input_path else 'view') }}

{% if score_input_path %}
{{ customer_rows(customer_input(score_input_path, none, var_prefix='score_input')) }}
{% else %}
select * from {{ ref('stg_customer_input') }}
{% endif %}
