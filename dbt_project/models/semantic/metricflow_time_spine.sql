{#- One row per day from 2020-01-01 to 2035-12-31, the time spine MetricFlow joins to. Plain
    SQL (digits cross joined) so it builds on DuckDB and on Spark (macro add_days). -#}
{{ config(materialized='table', schema='semantic') }}

with

digits as (

    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

day_offsets as (

    select
        thousands.digit * 1000
        + hundreds.digit * 100
        + tens.digit * 10
        + ones.digit as day_offset
    from digits as thousands
    cross join digits as hundreds
    cross join digits as tens
    cross join digits as ones

),

days as (

    select {{ add_days("cast('2020-01-01' as date)", 'day_offset') }} as date_day
    from day_offsets

),

final as (

    select date_day
    from days
    where date_day < cast('2036-01-01' as date)

)

select * from final
