{#-
    The few SQL spellings that differ between DuckDB and Spark SQL (see ../shared/SPARK.md),
    one macro each, so every model is written once. Branches on target.type: 'spark' gets
    Spark SQL, everything else the DuckDB spelling.
-#}

{#- The text type for casts: varchar (DuckDB) or string (Spark). -#}
{% macro string_type() -%}
    {{ 'string' if target.type == 'spark' else 'varchar' }}
{%- endmacro %}


{#- True when a double is neither NaN nor +-infinity: isfinite() is DuckDB-only. -#}
{% macro is_finite(expression) -%}
    {%- if target.type == 'spark' -%}
    (not isnan({{ expression }}) and abs({{ expression }}) != double('infinity'))
    {%- else -%}
    isfinite({{ expression }})
    {%- endif -%}
{%- endmacro %}


{#- A 1-based row number in scan order. Spark requires an ordered window; its file scan order is
    monotonically_increasing_id(). -#}
{% macro scan_row_number() -%}
    {%- if target.type == 'spark' -%}
    row_number() over (order by monotonically_increasing_id())
    {%- else -%}
    row_number() over ()
    {%- endif -%}
{%- endmacro %}


{#- string_agg(value, delimiter order by order_by): an ordered text aggregate. -#}
{% macro ordered_string_agg(value, delimiter, order_by) -%}
    {%- if target.type == 'spark' -%}
    array_join(
        transform(
            array_sort(collect_list(named_struct('k', {{ order_by }}, 'v', {{ value }}))),
            item -> item.v
        ),
        '{{ delimiter }}'
    )
    {%- else -%}
    string_agg({{ value }}, '{{ delimiter }}' order by {{ order_by }})
    {%- endif -%}
{%- endmacro %}


{#- Sum and mean of a double that do not depend on the order rows are added in: both engines
    add doubles in parallel, so a plain sum can differ in its last bits between two builds of
    the same data. Summing as decimal(38, 10) is exact (values are rounded to 1e-10 first). -#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 10))) as double)
{%- endmacro %}


{% macro exact_avg(expression) -%}
    cast(avg(cast({{ expression }} as decimal(38, 10))) as double)
{%- endmacro %}


{#- Text to bigint only when it is a whole number ("12", "-3"): try_cast alone rounds "12.7" to
    13 on DuckDB and returns null for "12.0" on Spark. Null otherwise. -#}
{% macro integer_or_null(text) -%}
    case when {{ matches_pattern('trim(' ~ text ~ ')', '[+-]?[0-9]+') }}
        then try_cast(trim({{ text }}) as bigint)
    end
{%- endmacro %}


{#- Text to date only when it is a full ISO date (yyyy-m-d): Spark's cast also accepts "2024"
    and "2024-01". Null otherwise (and for impossible dates such as 2025-02-30). -#}
{% macro date_or_null(text) -%}
    case when {{ matches_pattern('trim(' ~ text ~ ')', '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}') }}
        then try_cast(trim({{ text }}) as date)
    end
{%- endmacro %}


{#- True when the whole of a text matches a regular expression. -#}
{% macro matches_pattern(expression, pattern) -%}
    {%- if target.type == 'spark' -%}
    ({{ expression }} rlike '^{{ pattern }}$')
    {%- else -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
    {%- endif -%}
{%- endmacro %}
