{#- New customers to score against the stored fit, checked like the fit input. Without var
    score_input_path it is a view of the fitted customers themselves, so the SQL scoring can be
    compared with the Python assignment on the fitted data without copying every row. -#}
{%- set score_input_path = var('score_input_path', none) -%}
{%- set spec = feature_spec() -%}
{{ config(
    materialized='table' if score_input_path else 'view',
    pre_hook="{{ stage_input_file(var('score_input_path', none), 'score_input') }}",
) }}

{% if score_input_path and spec.input_kind == 'transactions' -%}
{{ exceptions.raise_compiler_error("var 'score_input_path': scoring a new purchase file is not supported; aggregate it per customer and score it with a customers feature set, or refit") }}
{%- elif score_input_path -%}
{#- The new customers, read like stg_customer_input and checked by the same macro. -#}
{%- set input = customer_input(score_input_path, none, var_prefix='score_input') -%}
{%- set raw_columns = input_columns() %}

with

source as (

    {{ input_rows(input, raw_columns) | indent(4) }}

),

checked as (

    {{ customer_row_checks(input, raw_columns) | indent(4) }}

),

final as (

    select * from checked

)

select * from final
{%- elif spec.input_kind == 'transactions' -%}
with

customers as (

    select * from {{ ref('stg_customers') }}

),

final as (

    select
        *,
        'fitted customers (stg_customers)' as input_source,
        cast(null as {{ string_type() }}) as rejection_reason
    from customers

)

select * from final
{%- else -%}
select * from {{ ref('stg_customer_input') }}
{%- endif %}
