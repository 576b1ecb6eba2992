using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Catalog.Api.Catalog.Data.Migrations
{
    /// <inheritdoc />
    public partial class StockLedger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The ledger lived beside the order shard map (sharding.stock_reservations, made by Ordering.Api's
            // migrations) until the catalog took it over. A database that has it keeps its rows, moved here whole in
            // this transaction, so an order decided before the upgrade is never reserved twice; Ordering's own
            // migration leaves the old table to this one for that reason.
            migrationBuilder.Sql("""
                DO $$
                DECLARE
                    -- Read from the catalog, which every role may: naming the table (to_regclass) needs USAGE on
                    -- Ordering.Api's schema, which this service's own role lacks, and fails once that schema exists.
                    old_owner name := (SELECT tableowner FROM pg_tables WHERE schemaname = 'sharding' AND tablename = 'stock_reservations');
                BEGIN
                    -- Moved only by a role that may own it (one role for every service); where each service has
                    -- its own role the old table is Ordering.Api's, which hands over its rows itself.
                    IF old_owner IS NOT NULL AND pg_has_role(old_owner, 'USAGE') THEN
                        ALTER TABLE sharding.stock_reservations SET SCHEMA public;
                    ELSE
                        CREATE TABLE public.stock_reservations (
                            "OrderId" uuid NOT NULL,
                            "Reserved" boolean NOT NULL,
                            "RejectionReason" character varying(200),
                            "DecidedAt" timestamp with time zone NOT NULL,
                            CONSTRAINT "PK_stock_reservations" PRIMARY KEY ("OrderId"));
                    END IF;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "stock_reservations");
        }
    }
}
