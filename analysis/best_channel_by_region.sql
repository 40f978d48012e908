-- Which channel brings the highest-CLV customers in each region?
-- Channels with fewer than 30 customers in a region are listed but not ranked: a mean over a
-- handful of customers is noise (Twitter has 58 customers in all).
-- Run: dbt show --select best_channel_by_region
-- A case-study analysis: enabled only when the feature set has CLV, minutes, region and channel.
{{ config(enabled=feature_set_has(
    ['customer_lifetime_value', 'minutes_watched', 'region', 'channel']
)) }}

with

summary as (

    select * from {{ ref('customer_value_summary') }}

),

region_channel as (

    select
        region_name,
        channel_name,
        count_customers,
        avg_customer_lifetime_value,
        median_customer_lifetime_value,
        total_customer_lifetime_value
    from summary
    where grouping_level = 'region_channel'

),

ranked as (

    select
        *,
        count_customers >= 30 as is_rankable,
        case
            when count_customers >= 30
                then rank() over (
                    partition by region_name, count_customers >= 30
                    order by avg_customer_lifetime_value desc
                )
        end as clv_rank_in_region
    from region_channel

),

final as (

    select
        region_name,
        clv_rank_in_region,
        channel_name,
        count_customers,
        round(avg_customer_lifetime_value, 2) as avg_customer_lifetime_value,
        round(median_customer_lifetime_value, 2) as median_customer_lifetime_value,
        round(total_customer_lifetime_value, 2) as total_customer_lifetime_value
    from ranked

)

select * from final
order by region_name asc, clv_rank_in_region asc nulls last, channel_name asc
