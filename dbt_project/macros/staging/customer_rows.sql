{#-
    customer_rows(input)

    Every row of a customer input (see customer_input) exactly once: the raw text, typed values,
    and for a row that cannot be used every reason, as "column: problem ('raw value')" joined
    by "; ". Used for the fit input (stg_customer_input) and new customers to score
    (stg_scoring_input), so both are checked the same way. The columns follow the feature set
    (macro feature_spec): one typed column per measure (plus its missing flag when blanks are
    zero-filled) and one <name>_code per categorical feature, checked against its lookup seed.
-#}
{% macro customer_rows(input) %}
{%- set spec = feature_spec() -%}
{%- set cols = input.columns -%}
{%- set has_customer_id = 'customer_id' in cols -%}
{%- set raw_keys = input_columns() | map(attribute='key') | reject('equalto', 'customer_id') | list -%}
{%- set raw_columns = ['customer_id_raw'] -%}
{%- for key in raw_keys -%}
    {%- do raw_columns.append(key ~ '_raw') -%}
{%- endfor -%}

with

parsed as (

    select
        {{ input.row_number }} as source_row_number,
        cast({{ cols.get('customer_id', 'null') }} as {{ string_type() }}) as customer_id_raw
        {%- for key in raw_keys %},
        cast({{ cols.get(key, 'null') }} as {{ string_type() }}) as {{ key }}_raw
        {%- endfor %}
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

{% for item in spec.categorical -%}
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
        {%- for key in raw_keys %}
        {{ key }}_raw,
        nullif(trim({{ key }}_raw), '') is null as is_{{ key }}_blank,
        {{ number_value(key ~ '_raw') }} as {{ key }}_value,
        {%- endfor %}
        min(source_row_number) over (
            partition by nullif(trim(customer_id_raw), '')
        ) as first_row_with_customer_id
    from source

),

looked_up as (

    select
        typed.*
        {%- for item in spec.categorical %},
        lookup_{{ item.name }}.{{ item.code_column }}
        {%- endfor %}
    from typed
    {%- for item in spec.categorical %}
    left join lookup_{{ item.name }}
        on typed.{{ item.source_key }}_value = lookup_{{ item.name }}.{{ item.code_column }}
    {%- endfor %}

),

checked as (

    select
        *,
        case when parse_reason is not null then parse_reason else concat_ws(
            '; ',
            {%- if has_customer_id %}
            case
                when is_customer_id_blank then 'customer_id: missing'
                when first_row_with_customer_id < source_row_number
                    then 'customer_id: duplicate of row ' || first_row_with_customer_id
            end,
            {%- endif %}
            {%- for item in spec.measures %}
            {{ number_reason(
                item.source_key, item.column, min=item.min, blank_is_missing=item.missing != 'zero'
            ) }},
            {%- endfor %}
            {%- for item in spec.categorical %}
            case
                when is_{{ item.source_key }}_blank then '{{ item.column }}: missing'
                when {{ item.code_column }} is null
                    then '{{ item.column }}: unknown code (''' || {{ item.source_key }}_raw || ''')'
            end,
            {%- endfor %}
            null
        ) end as reasons
    from looked_up

),

final as (

    select
        source_row_number,
        '{{ input.label | replace("'", "''") }}' as input_source,
        customer_id_raw,
        {%- for key in raw_keys %}
        {{ key }}_raw,
        {%- endfor %}
        {%- if has_customer_id %}
        customer_id_value as customer_id,
        {%- else %}
        cast(source_row_number as {{ string_type() }}) as customer_id,
        {%- endif %}
        {%- for item in spec.measures %}
        {%- if item.missing == 'zero' %}
        coalesce({{ item.source_key }}_value, 0) as {{ item.name }},
        is_{{ item.source_key }}_blank as {{ item.missing_flag }},
        {%- else %}
        {{ item.source_key }}_value as {{ item.name }},
        {%- endif %}
        {%- endfor %}
        {%- for item in spec.categorical %}
        {{ item.code_column }},
        {%- endfor %}
        {%- if input.kind == 'csv' %}
        source_row_number + 1 as source_line,
        {%- else %}
        cast(null as bigint) as source_line,
        {%- endif %}
        raw_line,
        nullif(reasons, '') as rejection_reason
    from checked

)

select * from final

{% endmacro %}
