{#- A 1-based row number in scan order. Spark requires an ordered window; its file scan order is
    monotonically_increasing_id(). -#}
{% macro scan_row_number() -%}
    {{ return(adapter.dispatch('scan_row_number', 'customer_segmentation')()) }}
{%- endmacro %}


{% macro default__scan_row_number() -%}
    row_number() over ()
{%- endmacro %}


{% macro spark__scan_row_number() -%}
    row_number() over (order by monotonically_increasing_id())
{%- endmacro %}
