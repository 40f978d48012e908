{#- One row per segment: size, each measure's total (summable measures), mean and median, the
    dominant category of each categorical feature, and the recommended action. Columns follow
    the feature set (macros feature_spec, report_measures). -#}
{%- set spec = feature_spec() -%}
{%- set measures = report_measures() -%}

with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

segment_names as (

    select * from {{ ref('int_segment_names') }}

),

segment_stability as (

    select * from {{ ref('ml_segment_stability') }}

),

{% for item in spec.categorical -%}
{{ item.name }}_sizes as (

    select
        segment_id,
        {{ item.code_column }},
        {{ item.name }}_name,
        count(*) as count_customers
    from customer_segments
    group by segment_id, {{ item.code_column }}, {{ item.name }}_name

),

{{ item.name }}_counts as (

    select
        segment_id,
        {{ item.name }}_name,
        count_customers
    from {{ item.name }}_sizes
    qualify row_number() over (
        partition by segment_id order by count_customers desc, {{ item.code_column }}
    ) = 1

),

{% endfor -%}

segment_totals as (

    select
        segment_id,
        count(*) as count_customers,
        {%- for item in measures %}
        {%- if item.summable %}
        {{ exact_sum(item.name) }} as total_{{ item.name }},
        {%- endif %}
        {{ exact_avg(item.name) }} as avg_{{ item.name }},
        median({{ item.name }}) as median_{{ item.name }},
        {%- endfor %}
        {%- for item in spec.measures if item.missing_flag %}
        cast(count_if({{ item.missing_flag }}) as bigint)
            as count_{{ item.missing_flag | replace('_was_missing', '_missing') }},
        {%- endfor %}
        {{ exact_avg('distance_to_centroid') }} as avg_distance_to_centroid
    from customer_segments
    group by segment_id

),

final as (

    select
        segment_totals.segment_id,
        segment_names.segment_name,
        segment_totals.count_customers,
        segment_totals.count_customers / sum(segment_totals.count_customers) over ()
            as share_of_customers,
        {%- for item in measures %}
        {%- if item.summable %}
        segment_totals.total_{{ item.name }},
        segment_totals.total_{{ item.name }}
        / cast(sum(cast(segment_totals.total_{{ item.name }} as decimal(38, 10))) over () as double)
            as share_of_{{ item.name }},
        {%- endif %}
        segment_totals.avg_{{ item.name }},
        segment_totals.median_{{ item.name }},
        {%- endfor %}
        {%- for item in spec.categorical %}
        {{ item.name }}_counts.{{ item.name }}_name as dominant_{{ item.name }}_name,
        {{ item.name }}_counts.count_customers / segment_totals.count_customers
            as share_in_dominant_{{ item.name }},
        {%- endfor %}
        {%- for item in spec.measures if item.missing_flag %}
        segment_totals.count_{{ item.missing_flag | replace('_was_missing', '_missing') }},
        {%- endfor %}
        segment_totals.avg_distance_to_centroid,
        segment_names.recommended_action,
        segment_names.action_reason,
        segment_names.is_action_overridden,
        segment_stability.bootstrap_jaccard
    from segment_totals
    inner join segment_names
        on segment_totals.segment_id = segment_names.segment_id
    left join segment_stability
        on segment_totals.segment_id = segment_stability.segment_id
    {%- for item in spec.categorical %}
    inner join {{ item.name }}_counts
        on segment_totals.segment_id = {{ item.name }}_counts.segment_id
    {%- endfor %}

)

select * from final
