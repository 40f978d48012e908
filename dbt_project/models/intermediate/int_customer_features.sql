{#- Model-ready features per customer, generated from the feature set (macro feature_spec):
    measures as the fit uses them, categorical codes, one-hot columns from the lookup seeds. -#}

with

customers as (

    select * from {{ ref('stg_customers') }}

),

final as (

    select {{ feature_columns() }}
    from customers

)

select * from final
