-- Every grouping level of customer_value_summary equals a plain group-by on customer_segments.
-- Sums are compared with a relative tolerance: DuckDB adds in parallel, so the order of the
-- terms (and the last bits of a sum over millions of rows) differs between two queries.
with

summary as (

    select * from {{ ref('customer_value_summary') }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

by_region_channel as (

    select
        region_code,
        channel_code,
        count(*) as count_customers,
        sum(customer_lifetime_value) as total_customer_lifetime_value,
        median(minutes_watched) as median_minutes_watched
    from customer_segments
    group by region_code, channel_code

),

by_segment as (

    select
        segment_id,
        count(*) as count_customers,
        avg(customer_lifetime_value) as avg_customer_lifetime_value
    from customer_segments
    group by segment_id

),

region_channel_mismatches as (

    select by_region_channel.*
    from by_region_channel
    left join summary
        on
            summary.grouping_level = 'region_channel'
            and by_region_channel.region_code = summary.region_code
            and by_region_channel.channel_code = summary.channel_code
    where
        summary.count_customers is distinct from by_region_channel.count_customers
        or abs(
            summary.total_customer_lifetime_value
            - by_region_channel.total_customer_lifetime_value
        ) > 1e-9 * greatest(1, abs(by_region_channel.total_customer_lifetime_value))
        or summary.median_minutes_watched
        is distinct from by_region_channel.median_minutes_watched

),

segment_mismatches as (

    select by_segment.segment_id
    from by_segment
    left join summary
        on
            summary.grouping_level = 'segment'
            and by_segment.segment_id = summary.segment_id
    where
        summary.count_customers is distinct from by_segment.count_customers
        or abs(summary.avg_customer_lifetime_value - by_segment.avg_customer_lifetime_value)
        > 1e-9 * greatest(1, abs(by_segment.avg_customer_lifetime_value))

),

level_totals as (

    select grouping_level
    from summary
    group by grouping_level
    having sum(count_customers) != (select count(*) from customer_segments)

)

select 'region_channel' as failed_check from region_channel_mismatches
union all
select 'segment' as failed_check from segment_mismatches
union all
select 'level ' || grouping_level as failed_check from level_totals
