with

customer_input as (

    select * from {{ ref('stg_customer_input') }}

),

final as (

    select
        source_row_number,
        input_source,
        rejection_reason,
        customer_id_raw,
        minutes_watched_raw,
        clv_raw,
        region_raw,
        channel_raw
    from customer_input
    where rejection_reason is not null

)

select * from final
