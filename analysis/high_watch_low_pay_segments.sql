-- Which segments watch the most but pay the least?
-- Indices compare each segment with all customers (1.0 = average). A segment with a high
-- minutes index and a low CLV index is engaged but under-monetised: an upsell target.
-- Run: dbt show --select high_watch_low_pay_segments
-- A case-study analysis: enabled only when the feature set has CLV, minutes, region and channel.
{{ config(enabled=feature_set_has(
    ['customer_lifetime_value', 'minutes_watched', 'region', 'channel']
)) }}

with

profiles as (

    select * from {{ ref('segment_profiles') }}

),

overall as (

    select
        avg_customer_lifetime_value as avg_clv,
        avg_minutes_watched as avg_minutes
    from {{ ref('customer_value_summary') }}
    where grouping_level = 'overall'

),

indexed as (

    select
        profiles.segment_id,
        profiles.segment_name,
        profiles.count_customers,
        profiles.avg_minutes_watched,
        profiles.median_minutes_watched,
        profiles.avg_customer_lifetime_value,
        profiles.avg_minutes_watched / nullif(overall.avg_minutes, 0) as minutes_index,
        profiles.avg_customer_lifetime_value / nullif(overall.avg_clv, 0) as clv_index,
        profiles.avg_customer_lifetime_value
        / nullif(profiles.avg_minutes_watched / 60, 0) as clv_per_hour_watched
    from profiles
    cross join overall

),

final as (

    select
        segment_id,
        segment_name,
        count_customers,
        round(minutes_index, 2) as minutes_index,
        round(clv_index, 2) as clv_index,
        round(minutes_index - clv_index, 2) as watch_minus_pay,
        round(clv_per_hour_watched, 2) as clv_per_hour_watched,
        minutes_index > 1 and clv_index < 1 as is_high_watch_low_pay
    from indexed

)

select * from final
order by watch_minus_pay desc
