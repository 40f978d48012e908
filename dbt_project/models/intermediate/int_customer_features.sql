{#- One-hot columns are generated from the lookup seeds, so a new region or channel in the seed
    becomes a new feature without touching this file. -#}
{%- set regions = lookup_rows(ref('regions'), 'region_code') -%}
{%- set channels = lookup_rows(ref('channels'), 'channel_code') -%}

with

customers as (

    select * from {{ ref('stg_customers') }}

),

final as (

    select
        customer_id,
        minutes_watched,
        minutes_was_missing,
        customer_lifetime_value,
        region_code,
        channel_code{% for region in regions %},
        cast(region_code = {{ region.region_code }} as integer)
            as is_region_{{ region.region_key }}{% endfor %}{% for channel in channels %},
        cast(channel_code = {{ channel.channel_code }} as integer)
            as is_channel_{{ channel.channel_key }}{% endfor %}
    from customers

)

select * from final
