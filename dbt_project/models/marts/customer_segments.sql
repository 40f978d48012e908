{#- One row per segmented customer: segment, assignment quality, the features that carry its
    margin over the runner-up (customer_segmentation.explain), Ward cluster, and the feature
    set's measures (original units) and categories (code and name), from macro feature_spec. -#}
{%- set spec = feature_spec() -%}

with

customers as (

    select * from {{ ref('stg_customers') }}

),

assignments as (

    select * from {{ ref('ml_customer_assignments') }}

),

ward_clusters as (

    select * from {{ ref('ml_ward_clusters') }}

),

segment_names as (

    select * from {{ ref('int_segment_names') }}

),

{% for item in spec.categorical -%}
lookup_{{ item.name }} as (

    select * from {{ ref(item.lookup) }}

),

{% endfor -%}

final as (

    select
        customers.customer_id,
        assignments.segment_id,
        segment_names.segment_name,
        assignments.distance_to_centroid,
        assignments.second_segment_id,
        assignments.distance_to_second_centroid,
        assignments.margin as assignment_margin,
        {%- for rank in range(1, top_feature_count() + 1) %}
        assignments.top_feature_{{ rank }},
        assignments.top_feature_{{ rank }}_contribution,
        {%- endfor %}
        ward_clusters.ward_cluster,
        {%- for item in spec.measures %}
        customers.{{ item.name }},
        {%- if item.missing_flag %}
        customers.{{ item.missing_flag }},
        {%- endif %}
        {%- endfor %}
        {%- for item in spec.categorical %}
        customers.{{ item.code_column }},
        lookup_{{ item.name }}.{{ item.name }}_name,
        {%- endfor %}
        customers.source_row_number
    from customers
    inner join assignments
        on customers.customer_id = assignments.customer_id
    inner join ward_clusters
        on customers.customer_id = ward_clusters.customer_id
    inner join segment_names
        on assignments.segment_id = segment_names.segment_id
    {%- for item in spec.categorical %}
    inner join lookup_{{ item.name }}
        on customers.{{ item.code_column }} = lookup_{{ item.name }}.{{ item.code_column }}
    {%- endfor %}

)

select * from final
