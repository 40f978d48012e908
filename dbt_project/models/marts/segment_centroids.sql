with

kmeans_fit as (

    select * from {{ ref('ml_kmeans_fit') }}

),

scaler as (

    select * from {{ ref('ml_feature_scaler') }}

),

segment_names as (

    select * from {{ ref('int_segment_names') }}

),

feature_definitions as (

    select * from {{ ref('int_feature_definitions') }}

),

final as (

    select
        kmeans_fit.segment_id,
        segment_names.segment_name,
        kmeans_fit.feature_name,
        kmeans_fit.feature_position,
        kmeans_fit.centroid_z,
        kmeans_fit.centroid_original,
        scaler.mean as feature_mean,
        scaler.std as feature_std,
        feature_definitions.feature_kind,
        feature_definitions.feature_transform
    from kmeans_fit
    inner join scaler
        on kmeans_fit.feature_name = scaler.feature_name
    inner join segment_names
        on kmeans_fit.segment_id = segment_names.segment_id
    inner join feature_definitions
        on kmeans_fit.feature_name = feature_definitions.feature_name

)

select * from final
