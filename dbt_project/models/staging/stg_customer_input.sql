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
    joined by "; ". stg_scoring_input checks new customers with the same CTEs. -#}
{%- set input = customer_input(var('input_path', none), var('input_relation', none)) -%}
{%- set raw_columns = input_columns() -%}
{%- set has_customer_id = 'customer_id' in input.columns -%}
{%- set categoricals = feature_spec().categorical %}

with

parsed as (

    select
        {{ input.row_number }} as source_row_number,
        {{ raw_text_columns(input, raw_columns) }}
    from {{ input.from_sql }}

),

source as (

    select
        *,
        cast(null as {{ string_type() }}) as parse_reason,
        cast(null as {{ string_type() }}) as raw_line
    from parsed
    union all
    {{ parse_errors(input, raw_columns) | indent(4) }}

),

{% for item in categoricals -%}
lookup_{{ item.name }} as (

    select * from {{ ref(item.lookup) }}

),

{% endfor -%}

typed as (

    select
        source_row_number,
        parse_reason,
        raw_line,
        customer_id_raw,
        nullif(trim(customer_id_raw), '') is null as is_customer_id_blank,
        nullif(trim(customer_id_raw), '') as customer_id_value,
        {{- customer_typed_columns() }}
        min(source_row_number) over (
            partition by nullif(trim(customer_id_raw), '')
        ) as first_row_with_customer_id
    from source

),

looked_up as (

    select
        {%- for item in categoricals %}
        lookup_{{ item.name }}.{{ item.code_column }},
        {%- endfor %}
        typed.*
    from typed
    {% for item in categoricals -%}
    left join lookup_{{ item.name }}
        on typed.{{ item.source_key }}_value = lookup_{{ item.name }}.{{ item.code_column }}
    {% endfor %}

),

checked as (

    select
        *,
        coalesce(parse_reason, concat_ws(
            '; ',
            {{- customer_reasons(has_customer_id) }}
            null
        )) as reasons
    from looked_up

),

final as (

    select
        source_row_number,
        '{{ input.label | replace("'", "''") }}' as input_source,
        {%- for column in raw_columns %}
        {{ column.name }}_raw,
        {%- endfor %}
        {{- customer_value_columns(has_customer_id) }}
        {{ source_line(input) }} as source_line,
        raw_line,
        nullif(reasons, '') as rejection_reason
    from checked

)

select * from final
