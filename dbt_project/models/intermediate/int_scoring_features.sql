with

scoring_input as (

    select * from {{ ref('stg_scoring_input') }}

),

final as (

    select
        customer_id,
        source_row_number,
        minutes_watched,
        customer_lifetime_value,
        region_code,
        channel_code{{ one_hot_columns() }}
    from scoring_input
    where rejection_reason is null

)

select * from final
