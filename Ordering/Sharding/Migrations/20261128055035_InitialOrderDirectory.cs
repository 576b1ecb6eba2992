using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AspireShop.Ordering.Sharding.Migrations
{
    /// <inheritdoc />
    public partial class InitialOrderDirectory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "sharding");

            migrationBuilder.CreateTable(
                name: "bucket_map",
                schema: "sharding",
                columns: table => new
                {
                    Bucket = table.Column<int>(type: "integer", nullable: false),
                    Shard = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_bucket_map", x => x.Bucket);
                });

            migrationBuilder.CreateTable(
                name: "stock_reservations",
                schema: "sharding",
                columns: table => new
                {
                    OrderId = table.Column<Guid>(type: "uuid", nullable: false),
                    Reserved = table.Column<bool>(type: "boolean", nullable: false),
                    RejectionReason = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    DecidedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_stock_reservations", x => x.OrderId);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "bucket_map",
                schema: "sharding");

            migrationBuilder.DropTable(
                name: "stock_reservations",
                schema: "sharding");
        }
    }
}
