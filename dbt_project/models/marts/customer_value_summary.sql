{#- The measures (total, mean, median) by segment, by each categorical feature (the case
    study: region, channel) and by their pairs, in one tidy table (grouping sets).
    grouping_level names the combination ('overall', 'segment', 'region', 'segment_region',
    'region_channel', ...); columns not in it are null. Columns follow the feature set
    (macros report_measures, value_summary_plan). -#}
{%- set measures = report_measures() -%}
{%- set plan = value_summary_plan() -%}

with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

grouped as (

    select
        {%- for dimension in plan.dimensions %}
        {%- for column in dimension.columns %}
        {{ column }},
        {%- endfor %}
        grouping({{ dimension.columns[0] }}) as is_all_{{ dimension.name }},
        {%- endfor %}
        {%- for item in measures %}
        {{ exact_sum(item.name) }} as total_{{ item.name }},
        {{ exact_avg(item.name) }} as avg_{{ item.name }},
        median({{ item.name }}) as median_{{ item.name }},
        {%- endfor %}
        count(*) as count_customers
    from customer_segments
    group by grouping sets (
        {{ plan.grouping_sets }}
    )

),

overall as (

    select
        {%- for item in measures if item.summable %}
        total_{{ item.name }} as all_{{ item.name }},
        {%- endfor %}
        count_customers as all_customers
    from grouped
    where {{ plan.is_overall }}

),

final as (

    select
        {{ plan.level }} as grouping_level,
        {%- for dimension in plan.dimensions %}
        {%- for column in dimension.columns %}
        grouped.{{ column }},
        {%- endfor %}
        {%- endfor %}
        {%- for item in measures %}
        grouped.total_{{ item.name }},
        {%- if item.summable %}
        grouped.total_{{ item.name }} / nullif(overall.all_{{ item.name }}, 0)
            as share_of_{{ item.name }},
        {%- endif %}
        grouped.avg_{{ item.name }},
        grouped.median_{{ item.name }},
        {%- endfor %}
        grouped.count_customers,
        grouped.count_customers / overall.all_customers as share_of_customers
    from grouped
    cross join overall

)

select * from final
