{#- The per-customer columns of stg_customers after customer_id and source_row_number, in
    order: each measure (original units) with its missing flag, then each categorical code. -#}
{% macro customer_columns() %}
    {%- set spec = feature_spec() -%}
    {%- set columns = [] -%}
    {%- for item in spec.measures -%}
        {%- do columns.append(item.name) -%}
        {%- if item.missing_flag -%}
            {%- do columns.append(item.missing_flag) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for item in spec.categorical -%}
        {%- do columns.append(item.code_column) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}
