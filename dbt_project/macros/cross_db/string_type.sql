{#- The text type for casts: varchar (DuckDB) or string (Spark). Like every macro in this
    folder, one SQL spelling that differs between the engines (see ../shared/SPARK.md),
    chosen by adapter.dispatch: default__<name> is DuckDB's, spark__<name> Spark SQL's. -#}
{% macro string_type() -%}
    {{ return(adapter.dispatch('string_type', 'customer_segmentation')()) }}
{%- endmacro %}


{% macro default__string_type() -%}
    varchar
{%- endmacro %}


{% macro spark__string_type() -%}
    string
{%- endmacro %}
