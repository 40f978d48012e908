{{ config(
    materialized='table',
    enabled=feature_spec().input_kind == 'transactions',
    pre_hook="{{ stage_input_file(var('input_path', none)) }}",
) }}

{#- Every purchase row exactly once (input_kind transactions, preset rfm): raw text, typed
    values and, for a row that cannot be used, every reason ("column: problem ('raw value')"
    joined by "; "), like stg_customer_input. Source columns are mapped by var
    transaction_columns (macro transaction_input_columns); the input is the demo seed, var
    input_path or var input_relation (macro customer_input, which also stops the build on a
    missing file or column). A purchase after var reference_date is rejected: recency cannot
    be negative. Output: source_row_number, input_source, <canonical>_raw, customer_id,
    purchase_date or recency_days, amount, quantity, unit_cost, source_line, raw_line,
    rejection_reason. -#}
{%- set wanted = transaction_input_columns() -%}
{%- set input = customer_input(
    var('input_path', none), var('input_relation', none), wanted=wanted
) -%}
{%- set by_canonical = {} -%}
{%- for column in wanted -%}
{%- do by_canonical.update({column.canonical: column}) -%}
{%- endfor -%}
{%- set has_date = 'purchase_date' in by_canonical -%}
{%- set has_quantity = 'quantity' in by_canonical -%}
{%- set reference_date = checked_reference_date() %}

with

source as (

    {{ input_rows(input, wanted) | indent(4) }}

),

typed as (

    select
        *,
        {%- for column in wanted %}
        nullif(trim({{ column.canonical }}_raw), '') is null as is_{{ column.canonical }}_blank,
        {%- endfor %}
        nullif(trim(customer_id_raw), '') as customer_id_value,
        {%- if has_date %}
        {{ date_or_null('purchase_date_raw') }} as purchase_date_value,
        {%- else %}
        {{ number_value('recency_days_raw') }} as recency_days_value,
        {%- endif %}
        {%- if has_quantity %}
        {{ number_value('quantity_raw') }} as quantity_value,
        {%- else %}
        {{ number_value('unit_cost_raw') }} as unit_cost_value,
        {%- endif %}
        {{ number_value('amount_raw') }} as amount_value
    from source

),

checked as (

    select
        *,
        coalesce(parse_reason, concat_ws(
            '; ',
            {%- set shown = by_canonical.customer_id.shown | replace("'", "''") %}
            case
                when is_customer_id_blank then '{{ shown }}: missing'
            end,
            {%- if has_date %}
            {%- set shown = by_canonical.purchase_date.shown | replace("'", "''") %}
            case
                when is_purchase_date_blank then '{{ shown }}: missing'
                when purchase_date_value is null
                    then '{{ shown }}: not a date (''' || purchase_date_raw || ''')'
                {%- if reference_date %}
                {%- set too_late = shown ~ ': after the reference date ' ~ reference_date %}
                when purchase_date_value > cast('{{ reference_date }}' as date)
                    then '{{ too_late }} (''' || purchase_date_raw || ''')'
                {%- endif %}
            end,
            {%- else %}
            {{ number_reason('recency_days', by_canonical.recency_days.shown, min=0) }},
            {%- endif %}
            {{ number_reason('amount', by_canonical.amount.shown, min=0) }},
            {%- if has_quantity %}
            {%- set shown = by_canonical.quantity.shown | replace("'", "''") %}
            case
                when is_quantity_blank then '{{ shown }}: missing'
                when quantity_value is null or isnan(quantity_value)
                    then '{{ shown }}: not a number (''' || quantity_raw || ''')'
                when quantity_value <= 0 or not {{ is_finite('quantity_value') }}
                    then '{{ shown }}: not a positive count (''' || quantity_raw || ''')'
                when quantity_value != floor(quantity_value)
                    then '{{ shown }}: not a whole number (''' || quantity_raw || ''')'
            end,
            {%- else %}
            {{ number_reason('unit_cost', by_canonical.unit_cost.shown, min=0) }},
            {%- endif %}
            null
        )) as reasons
    from typed

),

final as (

    select
        source_row_number,
        '{{ input.label | replace("'", "''") }}' as input_source,
        {%- for column in wanted %}
        {{ column.canonical }}_raw,
        {%- endfor %}
        customer_id_value as customer_id,
        {%- if has_date %}
        purchase_date_value as purchase_date,
        {%- else %}
        recency_days_value as recency_days,
        {%- endif %}
        amount_value as amount,
        {%- if has_quantity %}
        quantity_value as quantity,
        amount_value / quantity_value as unit_cost,
        {%- else %}
        amount_value / nullif(unit_cost_value, 0) as quantity,
        unit_cost_value as unit_cost,
        {%- endif %}
        {{ source_line(input) }} as source_line,
        raw_line,
        nullif(reasons, '') as rejection_reason
    from checked

)

select * from final
