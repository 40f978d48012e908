{#- Spark tables are parquet here (no merge): blocks are appended, each build adds a new run_id. -#}
{{ config(
    materialized='incremental',
    unique_key=none if target.type == 'spark' else 'run_id',
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
) }}

{#- Where customers went between the previous run and this one: from-segment x to-segment
    customer counts and shares, plus customers new in this run and customers gone.
    Incremental: one block per build; no rows for the first run of a database. -#}

with

transitions as (

    select * from {{ ref('int_segment_transitions') }}

),

final as (

    select
        '{{ invocation_id }}' as run_id,
        cast('{{ run_started_at }}' as timestamp) as run_started_at,
        from_segment_id,
        to_segment_id,
        transition_kind,
        count_customers,
        share_of_from_segment,
        share_of_to_segment,
        share_of_common_customers
    from transitions

)

select * from final
