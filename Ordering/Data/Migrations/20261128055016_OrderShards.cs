using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AspireShop.Ordering.Data.Migrations
{
    /// <inheritdoc />
    public partial class OrderShards : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Bucket",
                schema: "ordering",
                table: "outbox",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "Bucket",
                schema: "ordering",
                table: "orders",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "Bucket",
                schema: "ordering",
                table: "inbox",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "owned_buckets",
                schema: "ordering",
                columns: table => new
                {
                    Bucket = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_owned_buckets", x => x.Bucket);
                });

            migrationBuilder.CreateIndex(
                name: "IX_outbox_Bucket",
                schema: "ordering",
                table: "outbox",
                column: "Bucket");

            migrationBuilder.CreateIndex(
                name: "IX_orders_Bucket",
                schema: "ordering",
                table: "orders",
                column: "Bucket");

            migrationBuilder.CreateIndex(
                name: "IX_inbox_Bucket",
                schema: "ordering",
                table: "inbox",
                column: "Bucket");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "owned_buckets",
                schema: "ordering");

            migrationBuilder.DropIndex(
                name: "IX_outbox_Bucket",
                schema: "ordering",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_orders_Bucket",
                schema: "ordering",
                table: "orders");

            migrationBuilder.DropIndex(
                name: "IX_inbox_Bucket",
                schema: "ordering",
                table: "inbox");

            migrationBuilder.DropColumn(
                name: "Bucket",
                schema: "ordering",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "Bucket",
                schema: "ordering",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "Bucket",
                schema: "ordering",
                table: "inbox");
        }
    }
}
