using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AspireShop.Ordering.Data.Migrations
{
    /// <inheritdoc />
    public partial class OrderMailOwed : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "MailSentAt",
                schema: "ordering",
                table: "orders",
                type: "timestamp with time zone",
                nullable: true);

            // Orders decided before the worker tracked its mail were mailed by then: do not mail them again.
            migrationBuilder.Sql("UPDATE ordering.orders SET \"MailSentAt\" = \"CompletedAt\" WHERE \"Status\" <> 'Submitted'");

            migrationBuilder.CreateIndex(
                name: "IX_orders_mail_owed",
                schema: "ordering",
                table: "orders",
                column: "CompletedAt",
                filter: "\"MailSentAt\" IS NULL AND \"Status\" <> 'Submitted'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_orders_mail_owed",
                schema: "ordering",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "MailSentAt",
                schema: "ordering",
                table: "orders");
        }
    }
}
