using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AspireShop.Ordering.Sharding.Migrations
{
    /// <inheritdoc />
    public partial class StockLedgerMovedToCatalog : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The stock ledger is the catalog's now: Catalog.Api's StockLedger migration moves this table, rows and
            // all, into the catalog's schema when it finds it. When the catalog's ledger came first (a new database
            // where this service's first migration ran after the catalog's), the table here is a late copy: its rows,
            // if any, go to the catalog's ledger before it is dropped, so no decision is lost in either order.
            migrationBuilder.Sql("""
                DO $$
                BEGIN
                    IF to_regclass('public.stock_reservations') IS NOT NULL AND to_regclass('sharding.stock_reservations') IS NOT NULL THEN
                        -- Only rows need the catalog's table (a role of this service alone may read it, not write it).
                        IF EXISTS (SELECT 1 FROM sharding.stock_reservations) THEN
                            INSERT INTO public.stock_reservations ("OrderId", "Reserved", "RejectionReason", "DecidedAt")
                            SELECT "OrderId", "Reserved", "RejectionReason", "DecidedAt" FROM sharding.stock_reservations
                            ON CONFLICT ("OrderId") DO NOTHING;
                        END IF;
                        DROP TABLE sharding.stock_reservations;
                    END IF;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "stock_reservations",
                schema: "sharding",
                columns: table => new
                {
                    OrderId = table.Column<Guid>(type: "uuid", nullable: false),
                    DecidedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RejectionReason = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Reserved = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_stock_reservations", x => x.OrderId);
                });
        }
    }
}
