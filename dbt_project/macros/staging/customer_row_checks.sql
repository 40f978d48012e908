{#- The checks of one customer input, shared by stg_customer_input (the fit input) and
    stg_scoring_input (new customers to score), as one select over `rows`, a CTE of the
    calling model with source_row_number, parse_reason, raw_line and one <column>_raw text
    column per input column (macro raw_text_columns):

      typed         every value cast (macro customer_typed_columns) and the first row of each id
      looked_up     each categorical code joined to its lookup seed (null: not a known code)
      with_reasons  every reason a row cannot be used (macro customer_reasons), or the parse
                    error the reader reported for the line
    then the select: source row, input label, raw text, usable values, source line, reason.
    Its CTE names differ from the calling model's (Spark refuses a nested CTE that shadows one).

    Output columns: see stg_customer_input in _staging__models.yml. -#}
{% macro customer_row_checks(input, raw_columns, rows='source') -%}
{%- set has_customer_id = 'customer_id' in input.columns -%}
{%- set categoricals = feature_spec().categorical -%}
with

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
    from {{ rows }}

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

with_reasons as (

    select
        *,
        coalesce(parse_reason, concat_ws(
            '; ',
            {{- customer_reasons(has_customer_id) }}
            null
        )) as reasons
    from looked_up

)

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
from with_reasons
{%- endmacro %}
