{#- string_agg(value, delimiter order by order_by): an ordered text aggregate. -#}
{% macro ordered_string_agg(value, delimiter, order_by) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'customer_segmentation')(value, delimiter, order_by)) }}
{%- endmacro %}


{% macro default__ordered_string_agg(value, delimiter, order_by) -%}
    string_agg({{ value }}, '{{ delimiter }}' order by {{ order_by }})
{%- endmacro %}


{% macro spark__ordered_string_agg(value, delimiter, order_by) -%}
    array_join(
        transform(
            array_sort(collect_list(named_struct('k', {{ order_by }}, 'v', {{ value }}))),
            item -> item.v
        ),
        '{{ delimiter }}'
    )
{%- endmacro %}
