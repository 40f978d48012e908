{#-
    spark__load_csv_rows(model, agate_table): a seed's rows on Spark, kept in the file's order.

    dbt-spark inserts a seed in batches of 10,000 rows, and Spark writes each insert as one file
    per task; a scan then reads the files largest first, so the rows come back in another order
    than the file's (and the seed's scan row number, source_row_number, differs from DuckDB's).
    Here the whole seed is one insert, coalesced to one task: one file, in file order, which a
    scan reads in order (one split, or splits of one file in offset order above
    spark.sql.files.maxPartitionBytes, 128 MB by default). Seeds are small files by design: the
    whole seed is one statement. Overrides dbt-spark's macro of the same name (dispatch of the
    dbt namespace looks in the root project first).
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for name in agate_table.column_names -%}
        {%- do types.append(column_override.get(name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- if agate_table.rows | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set bindings = [] -%}
    {%- for row in agate_table.rows -%}
        {%- do bindings.extend(row) -%}
    {%- endfor -%}
    {%- set placeholders -%}
        ({% for type in types %}cast({{ get_binding_char() }} as {{ type }}){{ ', ' if not loop.last }}{% endfor %})
    {%- endset -%}
    {%- set sql -%}
        insert into {{ this.render() }}
        select /*+ coalesce(1) */ * from values
        {{ ([placeholders] * (agate_table.rows | length)) | join(',\n') }}
    {%- endset -%}
    {%- do adapter.add_query(sql, bindings=bindings, abridge_sql_log=True) -%}
    {{ return(sql) }}
{% endmacro %}
