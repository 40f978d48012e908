{#- New customers to score against the stored fit, checked like the fit input. Without var
    score_input_path it is a view of the fitted customers themselves, so the SQL scoring can be
    compared with the Python assignment on the fitted data without copying every row: every
    customer up to var scoring_check_rows input rows, every m-th input line above it
    (m = ceil(rows / scoring_check_rows)), so that at 10M the check is not a second copy of
    customer_segments. -#}
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
{%- set check_rows = segmentation_settings().scoring_check_rows %}

with

fitted as (

    select * from {{ ref('stg_customer_input') }}

),

sized as (

    select count(*) as count_rows from fitted

),

final as (

    select fitted.*
    from fitted
    cross join sized
    where
        sized.count_rows <= {{ check_rows }}
        or fitted.source_row_number
        % cast(ceil(sized.count_rows / {{ check_rows }}) as bigint) = 0

)

select * from final
{%- endif %}
