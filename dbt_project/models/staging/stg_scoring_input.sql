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
{#- The new customers, typed and checked with the CTEs of stg_customer_input. -#}
{%- set input = customer_input(score_input_path, none, var_prefix='score_input') -%}
{%- set raw_columns = input_columns() -%}
{%- set has_customer_id = 'customer_id' in input.columns -%}
{%- set categoricals = spec.categorical %}

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
