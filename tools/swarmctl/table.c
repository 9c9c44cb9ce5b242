/*-------------------------------------------------------------------------
 *
 * table.c
 *	  Readable aligned tables for swarmctl's output: a header, a rule, and
 *	  rows whose columns are aligned left or right, two spaces apart.
 *
 * tools/swarmctl/table.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "swarmctl.h"

struct Table
{
	int			ncols;
	char	  **headers;
	char	   *aligns;			/* 'l' or 'r' per column */
	char	 ***rows;
	int			nrows;
	int			maxrows;
};

/* Display width of a UTF-8 string: its code points. */
static int
text_width(const char *s)
{
	int			w = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			w++;
	return w;
}

/* A table with these column headers; aligns has one 'l' or 'r' per column. */
Table *
table_create(int ncols, const char *const *headers, const char *aligns)
{
	Table	   *t = pg_malloc0(sizeof(Table));
	int			i;

	t->ncols = ncols;
	t->headers = pg_malloc(ncols * sizeof(char *));
	for (i = 0; i < ncols; i++)
		t->headers[i] = pg_strdup(headers[i]);
	t->aligns = pg_strdup(aligns);
	t->maxrows = 16;
	t->rows = pg_malloc(t->maxrows * sizeof(char **));
	return t;
}

/* Add a row of ncols cells (NULL prints as empty). */
void
table_add_row(Table *t, const char *const *cells)
{
	char	  **row = pg_malloc(t->ncols * sizeof(char *));
	int			i;

	for (i = 0; i < t->ncols; i++)
		row[i] = pg_strdup(cells[i] ? cells[i] : "");
	if (t->nrows == t->maxrows)
	{
		t->maxrows *= 2;
		t->rows = pg_realloc(t->rows, t->maxrows * sizeof(char **));
	}
	t->rows[t->nrows++] = row;
}

/* Print one cell padded to its column's width. */
static void
print_cell(FILE *out, const char *s, int width, char align, bool last)
{
	int			pad = width - text_width(s);

	if (align == 'r')
		fprintf(out, "%*s%s", pad, "", s);
	else if (last)
		fputs(s, out);
	else
		fprintf(out, "%s%*s", s, pad, "");
}

/* Print the table, each line prefixed with indent. */
void
table_print(Table *t, FILE *out, const char *indent)
{
	int		   *width = pg_malloc0(t->ncols * sizeof(int));
	int			i,
				j;

	for (j = 0; j < t->ncols; j++)
	{
		width[j] = text_width(t->headers[j]);
		for (i = 0; i < t->nrows; i++)
			width[j] = Max(width[j], text_width(t->rows[i][j]));
	}

	fputs(indent, out);
	for (j = 0; j < t->ncols; j++)
	{
		if (j > 0)
			fputs("  ", out);
		print_cell(out, t->headers[j], width[j], t->aligns[j], j == t->ncols - 1);
	}
	fputc('\n', out);
	fputs(indent, out);
	for (j = 0; j < t->ncols; j++)
	{
		if (j > 0)
			fputs("  ", out);
		for (i = 0; i < width[j]; i++)
			fputc('-', out);
	}
	fputc('\n', out);
	for (i = 0; i < t->nrows; i++)
	{
		fputs(indent, out);
		for (j = 0; j < t->ncols; j++)
		{
			if (j > 0)
				fputs("  ", out);
			print_cell(out, t->rows[i][j], width[j], t->aligns[j], j == t->ncols - 1);
		}
		fputc('\n', out);
	}
	free(width);
}

/* Free the table. */
void
table_free(Table *t)
{
	int			i,
				j;

	for (i = 0; i < t->nrows; i++)
	{
		for (j = 0; j < t->ncols; j++)
			free(t->rows[i][j]);
		free(t->rows[i]);
	}
	for (j = 0; j < t->ncols; j++)
		free(t->headers[j]);
	free(t->headers);
	free(t->aligns);
	free(t->rows);
	free(t);
}
