{#-
    The few SQL spellings that differ between DuckDB and Spark SQL (see ../shared/SPARK.md),
    one macro each, so every model is written once. Each engine-specific macro goes through
    adapter.dispatch: default__<name> is the DuckDB spelling, spark__<name> the Spark SQL one.
-#}

{#- The text type for casts: varchar (DuckDB) or string (Spark). -#}
{% macro string_type() -%}
    {{ return(adapter.dispatch('string_type', 'customer_segmentation')()) }}
{%- endmacro %}

{% macro default__string_type() -%}
    varchar
{%- endmacro %}

{% macro spark__string_type() -%}
    string
{%- endmacro %}


{#- True when a double is neither NaN nor +-infinity: isfinite() is DuckDB-only. -#}
{% macro is_finite(expression) -%}
    {{ return(adapter.dispatch('is_finite', 'customer_segmentation')(expression)) }}
{%- endmacro %}

{% macro default__is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}

{% macro spark__is_finite(expression) -%}
    (not isnan({{ expression }}) and abs({{ expression }}) != double('infinity'))
{%- endmacro %}


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
    {{ return(adapter.dispatch('matches_pattern', 'customer_segmentation')(expression, pattern)) }}
{%- endmacro %}

{% macro default__matches_pattern(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__matches_pattern(expression, pattern) -%}
    ({{ expression }} rlike '^{{ pattern }}$')
{%- endmacro %}



{#- A date plus a whole number of days, still a date: date + n (DuckDB), date_add (Spark). -#}
{% macro add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('add_days', 'customer_segmentation')(date_expression, days)) }}
{%- endmacro %}

{% macro default__add_days(date_expression, days) -%}
    {{ date_expression }} + {{ days }}
{%- endmacro %}

{% macro spark__add_days(date_expression, days) -%}
    date_add({{ date_expression }}, {{ days }})
{%- endmacro %}
