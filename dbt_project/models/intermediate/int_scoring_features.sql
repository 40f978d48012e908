{#- The same feature columns as int_customer_features (macro feature_columns), for the usable
    rows of stg_scoring_input. -#}

with

scoring_input as (

    select * from {{ ref('stg_scoring_input') }}
    where rejection_reason is null

),

final as (

    select
        source_row_number,
        {{ feature_columns() }}
    from scoring_input

)

select * from final
