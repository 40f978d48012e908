{#- Spark tables are parquet here (no merge): blocks are appended, each build adds a new run_id. -#}
{{ config(
    materialized='incremental',
    unique_key=none if target.type == 'spark' else ['run_id', 'segment_id'],
) }}

{#- The label map of every run: which segment id each segment got, the previous run's id it
    continues and how far its centroid moved. Incremental: one block of k rows per build. -#}

with

kmeans_fit as (

    select * from {{ ref('ml_kmeans_fit') }}

),

final as (

    select distinct
        '{{ invocation_id }}' as run_id,
        cast('{{ run_started_at }}' as timestamp) as run_started_at,
        segment_id,
        segment_name,
        previous_segment_id,
        centroid_shift_z,
        count_customers,
        id_assignment
    from kmeans_fit

)

select * from final
