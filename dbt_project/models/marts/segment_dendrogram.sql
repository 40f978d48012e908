with

ward_linkage as (

    select * from {{ ref('ml_ward_linkage') }}

),

final as (

    select
        merge_step,
        left_node_id,
        right_node_id,
        merged_node_id,
        height,
        size as count_leaves,
        count_customers,
        linkage_method
    from ward_linkage

)

select * from final
