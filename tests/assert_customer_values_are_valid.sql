-- Every usable customer has a value for each measure of the feature set, at or above its
-- declared minimum, and a known code for each categorical feature (in its lookup seed).
{%- set spec = feature_spec() %}
with

customers as (

    select * from {{ ref('stg_customers') }}

),

{% for item in spec.categorical -%}
lookup_{{ item.name }} as (

    select * from {{ ref(item.lookup) }}

),

{% endfor -%}

failures as (

    {%- for item in spec.measures %}
    select customer_id, '{{ item.name }}: null or below the minimum' as failure
    from customers
    where
        {{ item.name }} is null
        {%- if item.min is not none %}
        or {{ item.name }} < {{ item.min }}
        {%- endif %}
    union all
    {%- endfor %}
    {%- for item in spec.categorical %}
    select customer_id, '{{ item.code_column }}: not in {{ item.lookup }}' as failure
    from customers
    where
        {{ item.code_column }} is null
        or {{ item.code_column }} not in (
            select lookup_{{ item.name }}.{{ item.code_column }} from lookup_{{ item.name }}
        )
    union all
    {%- endfor %}
    select
        null as customer_id,
        null as failure
    where false

)

select * from failures
