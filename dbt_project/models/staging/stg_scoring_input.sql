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
{{ customer_rows(customer_input(score_input_path, none, var_prefix='score_input')) }}
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
