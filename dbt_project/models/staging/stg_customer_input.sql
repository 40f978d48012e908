{{ config(
    materialized='table',
    enabled=feature_spec().input_kind == 'customers',
    pre_hook="{{ stage_input_file(var('input_path', none)) }}",
) }}

{#- Every input row exactly once, typed and checked; a table, so row numbers are fixed once per
    build. The input is the demo seed, var input_path (CSV/Parquet) or var input_relation
    (macro customer_input, which also stops the build on a missing file or column). A CSV is
    read once by the pre-hook, which also keeps the lines DuckDB could not parse: they are
    rows here too, rejected with DuckDB's reason. The columns follow the feature set (macro
    feature_spec): one typed column per measure (plus its missing flag when blanks are
    zero-filled) and one <name>_code per categorical feature, checked against its lookup
    seed; a row that cannot be used has every reason, as "column: problem ('raw value')"
    joined by "; ". The checks (macro customer_row_checks) are shared with stg_scoring_input. -#}
{%- set input = customer_input(var('input_path', none), var('input_relation', none)) -%}
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
