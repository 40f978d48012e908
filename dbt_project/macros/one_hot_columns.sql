{#-
    one_hot_columns()

    The one-hot select items for region and channel, generated from the lookup seeds: one
    0/1 integer column per region (is_region_<key>) and per channel (is_channel_<key>). Each
    item starts with a comma, so it follows the last hand-written column:

        select customer_id, region_code, channel_code{{ one_hot_columns() }} from customers

    Expects columns region_code and channel_code. A new row in a seed becomes a new feature.
-#}
{% macro one_hot_columns() %}
    {%- set regions = lookup_rows(ref('regions'), 'region_code') -%}
    {%- set channels = lookup_rows(ref('channels'), 'channel_code') -%}
    {%- for region in regions %},
        cast(region_code = {{ region.region_code }} as integer)
            as is_region_{{ region.region_key }}
    {%- endfor %}
    {%- for channel in channels %},
        cast(channel_code = {{ channel.channel_code }} as integer)
            as is_channel_{{ channel.channel_key }}
    {%- endfor %}
{%- endmacro %}
