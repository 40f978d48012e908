-- Nothing is silently dropped: rows in = rows segmented + rows rejected, and no row is both.
with

counts as (

    select
        (select count(*) from {{ ref('stg_customer_input') }}) as count_input_rows,
        (select count(*) from {{ ref('customer_segments') }}) as count_segmented,
        (select count(*) from {{ ref('rejected_customer_rows') }}) as count_rejected,
        (
            select count(*)
            from {{ ref('customer_segments') }} as segmented
            inner join {{ ref('rejected_customer_rows') }} as rejected
                on segmented.source_row_number = rejected.source_row_number
        ) as count_both

)

select *
from counts
where count_input_rows != count_segmented + count_rejected or count_both > 0
