{#-
    customer_rows(input)

    Every row of a customer input (see customer_input) exactly once: the raw text, typed values,
    and for a row that cannot be used every reason, as "column: problem ('raw value')" joined
    by "; ". Used for the fit input (stg_customer_input) and new customers to score
    (stg_scoring_input), so both are checked the same way.
-#}
{% macro customer_rows(input) %}
{%- set cols = input.columns -%}
{%- set has_customer_id = 'customer_id' in cols -%}

with

source as (

    select
        {{ input.row_number }} as source_row_number,
        cast({{ cols.get('customer_id', 'null') }} as varchar) as customer_id_raw,
        cast({{ cols.get('minutes_watched', 'null') }} as varchar) as minutes_watched_raw,
        cast({{ cols.get('clv', 'null') }} as varchar) as clv_raw,
        cast({{ cols.get('region', 'null') }} as varchar) as region_raw,
        cast({{ cols.get('channel', 'null') }} as varchar) as channel_raw
    from {{ input.from_sql }}

),

regions as (

    select * from {{ ref('regions') }}

),

channels as (

    select * from {{ ref('channels') }}

),

typed as (

    select
        source_row_number,
        customer_id_raw,
        minutes_watched_raw,
        clv_raw,
        region_raw,
        channel_raw,
        nullif(trim(customer_id_raw), '') is null as is_customer_id_blank,
        nullif(trim(minutes_watched_raw), '') is null as is_minutes_blank,
        nullif(trim(clv_raw), '') is null as is_clv_blank,
        nullif(trim(region_raw), '') is null as is_region_blank,
        nullif(trim(channel_raw), '') is null as is_channel_blank,
        try_cast(trim(customer_id_raw) as bigint) as customer_id_value,
        try_cast(trim(minutes_watched_raw) as double) as minutes_value,
        try_cast(trim(clv_raw) as double) as clv_value,
        try_cast(trim(region_raw) as double) as region_value,
        try_cast(trim(channel_raw) as double) as channel_value,
        min(source_row_number) over (
            partition by try_cast(trim(customer_id_raw) as bigint)
        ) as first_row_with_customer_id
    from source

),

looked_up as (

    select
        typed.*,
        regions.region_code,
        channels.channel_code
    from typed
    left join regions
        on typed.region_value = regions.region_code
    left join channels
        on typed.channel_value = channels.channel_code

),

checked as (

    select
        *,
        concat_ws(
            '; ',
            {% if has_customer_id -%}
            case
                when is_customer_id_blank then 'customer_id: missing'
                when customer_id_value is null
                    then 'customer_id: not an integer (''' || customer_id_raw || ''')'
                when first_row_with_customer_id < source_row_number
                    then 'customer_id: duplicate of row ' || first_row_with_customer_id
            end,
            {%- endif %}
            case
                when is_minutes_blank then null
                when minutes_value is null or isnan(minutes_value)
                    then 'minutes_watched: not a number (''' || minutes_watched_raw || ''')'
                when not isfinite(minutes_value)
                    then 'minutes_watched: not finite (''' || minutes_watched_raw || ''')'
                when minutes_value < 0
                    then 'minutes_watched: negative (''' || minutes_watched_raw || ''')'
            end,
            case
                when is_clv_blank then 'CLV: missing'
                when clv_value is null or isnan(clv_value)
                    then 'CLV: not a number (''' || clv_raw || ''')'
                when not isfinite(clv_value)
                    then 'CLV: not finite (''' || clv_raw || ''')'
                when clv_value < 0 then 'CLV: negative (''' || clv_raw || ''')'
            end,
            case
                when is_region_blank then 'region: missing'
                when region_code is null
                    then 'region: unknown code (''' || region_raw || ''')'
            end,
            case
                when is_channel_blank then 'channel: missing'
                when channel_code is null
                    then 'channel: unknown code (''' || channel_raw || ''')'
            end
        ) as reasons
    from looked_up

),

final as (

    select
        source_row_number,
        '{{ input.label | replace("'", "''") }}' as input_source,
        customer_id_raw,
        minutes_watched_raw,
        clv_raw,
        region_raw,
        channel_raw,
        coalesce(customer_id_value, source_row_number) as customer_id,
        coalesce(minutes_value, 0) as minutes_watched,
        is_minutes_blank as minutes_was_missing,
        clv_value as customer_lifetime_value,
        region_code,
        channel_code,
        nullif(reasons, '') as rejection_reason
    from checked

)

select * from final

{% endmacro %}
