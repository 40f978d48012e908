-- Region × channel matrix of CLV per customer: one row per channel, one column per region
-- (generated from the regions seed), plus the channel's overall figure.
-- Run: dbt show --select region_channel_clv_matrix
-- A case-study analysis: enabled only when the feature set has CLV, minutes, region and channel.
{{ config(enabled=feature_set_has(
    ['customer_lifetime_value', 'minutes_watched', 'region', 'channel']
)) }}

{%- set regions = lookup_rows(ref('regions'), 'region_code') %}

with

summary as (

    select * from {{ ref('customer_value_summary') }}

),

region_channel as (

    select * from summary
    where grouping_level = 'region_channel'

),

channel_totals as (

    select * from summary
    where grouping_level = 'channel'

),

final as (

    select
        channel_totals.channel_code,
        channel_totals.channel_name,
        {%- for region in regions %}
        round(
            max(
                case
                    when region_channel.region_code = {{ region.region_code }}
                        then region_channel.avg_customer_lifetime_value
                end
            ),
            2
        ) as clv_{{ region.region_key }},
        {%- endfor %}
        round(channel_totals.avg_customer_lifetime_value, 2) as clv_all_regions,
        channel_totals.count_customers
    from channel_totals
    -- region_channel is referenced in the columns generated per region above.
    left join region_channel  -- noqa: ST11
        on channel_totals.channel_code = region_channel.channel_code
    group by
        channel_totals.channel_code,
        channel_totals.channel_name,
        channel_totals.avg_customer_lifetime_value,
        channel_totals.count_customers

)

select * from final
order by channel_code
