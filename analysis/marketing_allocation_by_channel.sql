-- Where should marketing money go? CLV per customer by acquisition channel, with each channel's
-- share of customers and of revenue. value_index > 1: a customer from this channel is worth
-- more than the average customer, so a marginal acquisition there pays more.
-- Run: dbt show --select marketing_allocation_by_channel
-- A case-study analysis: enabled only when the feature set has CLV, minutes, region and channel.
{{ config(enabled=feature_set_has(
    ['customer_lifetime_value', 'minutes_watched', 'region', 'channel']
)) }}

with

summary as (

    select * from {{ ref('customer_value_summary') }}

),

overall as (

    select avg_customer_lifetime_value as avg_clv
    from summary
    where grouping_level = 'overall'

),

channels as (

    select
        summary.channel_name,
        summary.count_customers,
        summary.share_of_customers,
        summary.share_of_customer_lifetime_value,
        summary.avg_customer_lifetime_value,
        summary.median_customer_lifetime_value,
        summary.avg_customer_lifetime_value / overall.avg_clv as value_index
    from summary
    cross join overall
    where summary.grouping_level = 'channel'

),

final as (

    select
        channel_name,
        count_customers,
        round(share_of_customers, 4) as share_of_customers,
        round(share_of_customer_lifetime_value, 4) as share_of_customer_lifetime_value,
        round(avg_customer_lifetime_value, 2) as clv_per_customer,
        round(median_customer_lifetime_value, 2) as median_clv,
        round(value_index, 3) as value_index,
        case
            when count_customers < 30 then 'too few customers to judge'
            when value_index >= 1.05 then 'invest more'
            when value_index <= 0.95 then 'review spend'
            else 'hold'
        end as suggestion
    from channels

)

select * from final
order by value_index desc
